/** A directory rule a request broke, in ARM's error vocabulary: HTTP status, `code` and `message`. */
export class DirectoryError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "DirectoryError";
    this.status = status;
    this.code = code;
  }

  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const notFound = (code: string, message: string) => new DirectoryError(404, code, message);
export const badRequest = (code: string, message: string) => new DirectoryError(400, code, message);
export const conflict = (code: string, message: string) => new DirectoryError(409, code, message);
