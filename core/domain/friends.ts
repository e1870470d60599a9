/** The longest message of a friend request, or of its refusal, in characters (a before-callback's change included). */
export const MAX_FRIEND_REQUEST_MESSAGE = 255;
