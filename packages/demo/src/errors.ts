/**
 * A problem with the demo a user can act on (its tuning file, a grid where nothing fit, an
 * interruption): the message names the file or step and the fix; `exitCode` is 2, or 130 when the
 * demo was interrupted (run it again to continue).
 */
export class DemoError extends Error {
  constructor(
    message: string,
    readonly exitCode: 2 | 130 = 2,
  ) {
    super(message);
    this.name = 'DemoError';
  }
}
