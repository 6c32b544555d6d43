/**
 * The embedded server's worker thread, as source text (a string, not a file, so it runs the same from the
 * TypeScript sources under jest and from the swc build, which copies only compiled .ts).
 *
 * Why a worker thread at all: PGlite's CommonJS build loads Node built-ins with dynamic `import()`, which jest's
 * module sandbox refuses, so PGlite cannot run inside a test's module context; a worker is plain Node. It also
 * keeps the WebAssembly database's CPU work off the main event loop, so HTTP stays responsive under load.
 *
 * Protocol: workerData { pglite, pgliteSocket (module paths), dataDir, socketPath, maxConnections };
 * messages out: {type:'ready'} | {type:'failed', message} | {type:'closed', message?}; message in: {type:'close'}.
 */
export const EMBEDDED_SERVER_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
const { PGLiteSocketServer } = require(workerData.pgliteSocket);
let db;
let server;
const describe = (error) => String((error && error.stack) || error);
const started = (async () => {
  try {
    db = await PGlite.create(workerData.dataDir);
    server = new PGLiteSocketServer({ db, path: workerData.socketPath, maxConnections: workerData.maxConnections });
    await server.start();
    parentPort.postMessage({ type: 'ready' });
  } catch (error) {
    parentPort.postMessage({ type: 'failed', message: describe(error) });
  }
})();
parentPort.on('message', async (message) => {
  if (!message || message.type !== 'close') return;
  await started;
  let problem;
  try {
    if (server) await server.stop();
  } catch (error) {
    problem = describe(error);
  }
  try {
    // Closing flushes the database files: without it a persisted data directory may lose recent writes.
    if (db && !db.closed) await db.close();
  } catch (error) {
    problem = problem || describe(error);
  }
  parentPort.postMessage({ type: 'closed', message: problem });
});
`;
