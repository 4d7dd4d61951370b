/**
 * The emulator's clock: real time plus a settable offset, so time keeps flowing (updates finish, provisioned
 * concurrency becomes READY, schedules fire) and tests can still jump to a window edge deterministically.
 */
export class EmulatorClock {
  #offsetMs = 0;

  constructor(start?: Date) {
    if (start) this.set(start);
  }

  nowMs(): number {
    return Date.now() + this.#offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  set(date: Date): void {
    this.#offsetMs = date.getTime() - Date.now();
  }

  advance(seconds: number): void {
    this.#offsetMs += seconds * 1000;
  }
}
