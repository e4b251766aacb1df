/**
 * An operator tool's database operation (setup-postgres, migrate-users) cannot go on
 * for a reason its message explains completely, e.g. "role x does not exist". The CLI
 * prints the message as is and exits 1; no cause or stack is needed to act on it.
 */
export class OperationProblem extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OperationProblem';
  }
}
