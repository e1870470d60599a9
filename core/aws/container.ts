/**
 * Which container the code runs in. On AWS each function has containers of its own, so
 * whatever a module caches (a secret value) was fetched by, and with the permissions of,
 * that function. The local runtime hosts every function in one process; it names the
 * running function here, and per-container caches key by it, so one function never reads
 * what only another was allowed to fetch.
 */
let current: () => string = () => '';

/** The running container's name; '' on AWS, where the process is the container. */
export function containerName(): string {
  return current();
}

/** Installs how the local runtime tells which function is running. */
export function setContainerName(resolve: () => string): void {
  current = resolve;
}
