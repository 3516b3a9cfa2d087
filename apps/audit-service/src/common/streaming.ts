import { once } from 'node:events';
import type { Response } from 'express';
import type { Logger } from 'pino';

/**
 * Streams text chunks as the response body with backpressure, so an export of a million records
 * holds one page in memory. Failures before the first byte answer with the usual error body
 * (the exception filter); after it, the connection is cut, which clients see as an incomplete file
 * rather than a file that looks complete.
 */
export async function streamText(response: Response, logger: Logger, options: { contentType: string; filename: string }, chunks: AsyncIterable<string>): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  response.status(200);
  response.setHeader('content-type', options.contentType);
  response.setHeader('content-disposition', `attachment; filename="${options.filename}"`);
  response.setHeader('cache-control', 'no-store');
  try {
    for (let next = first; !next.done; next = await iterator.next()) {
      if (response.destroyed) return;
      if (!response.write(next.value)) await Promise.race([once(response, 'drain'), once(response, 'close')]);
    }
    response.end();
  } catch (error) {
    logger.error({ err: error }, 'export failed part-way; the connection is closed');
    response.destroy();
  } finally {
    await iterator.return?.(undefined);
  }
}
