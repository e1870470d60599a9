/** A small typed event emitter: one context object per event, listeners isolated from each other. */

export type Listener<T> = (event: T) => void;

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /**
   * Adds a listener; returns a function that removes it.
   *
   * @example
   * const off = client.on('recvNewMessage', ({ message }) => show(message));
   * off();
   */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  /**
   * Adds a listener called at most once.
   *
   * @example
   * client.once('syncServerFinish', () => hideSpinner());
   */
  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /**
   * Removes a listener.
   *
   * @example
   * client.off('recvNewMessage', listener);
   */
  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.listeners.get(name)?.delete(listener as Listener<never>);
  }

  /** Calls every listener; one that throws is reported to `onListenerError` and does not stop the others. */
  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        (listener as Listener<Events[K]>)(event);
      } catch (err) {
        this.onListenerError(err, String(name));
      }
    }
  }

  protected onListenerError(err: unknown, name: string): void {
    // A listener's bug must not break the SDK's own state machine.
    console.error(`cirrus: a listener of "${name}" threw`, err);
  }
}
