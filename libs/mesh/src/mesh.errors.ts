/** Publishing to, or subscribing to, a topic that does not exist. Topics are never created implicitly. */
export class MeshUnknownTopicError extends Error {
  constructor(readonly topic: string) {
    super(`mesh topic "${topic}" does not exist (create it with ensureTopics)`);
    this.name = 'MeshUnknownTopicError';
  }
}

/** An existing topic does not match what ensureTopics asked for, in a way that cannot be changed safely. */
export class MeshTopicMismatchError extends Error {
  constructor(
    readonly topic: string,
    detail: string,
  ) {
    super(`mesh topic "${topic}" exists with ${detail}`);
    this.name = 'MeshTopicMismatchError';
  }
}

/** The broker did not acknowledge a publish within the bounded retry time. Some messages may have been written. */
export class MeshPublishError extends Error {
  constructor(
    readonly topic: string,
    readonly attempts: number,
    readonly cause: unknown,
  ) {
    super(`publishing to mesh topic "${topic}" failed after ${attempts} attempt(s): ${describe(cause)}`);
    this.name = 'MeshPublishError';
  }
}

/** The mesh was closed; it cannot be used any more. */
export class MeshClosedError extends Error {
  constructor() {
    super('the mesh is closed');
    this.name = 'MeshClosedError';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
