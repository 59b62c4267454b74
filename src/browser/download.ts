// Fetching an image with progress: the body is read chunk by chunk and each chunk reported, so the page can show
// bytes and percent while a kernel or initrd downloads.

/** A download that failed; the message names the file, its URL and the cause. */
export class DownloadError extends Error {}

/** `total` is undefined when the size is unknown (no Content-Length, or a compressed transfer). */
export type Progress = (loaded: number, total: number | undefined) => void;

/** The whole body of `url`; `what` names it in errors ("kernel"). */
export async function download(what: string, url: string, progress: Progress): Promise<Uint8Array<ArrayBuffer>> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new DownloadError(`${what} ${url}: cannot fetch (${(e as Error).message}); check the URL, and that its server allows CORS when it is another site`);
  }
  if (!response.ok) throw new DownloadError(`${what} ${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  // With Content-Encoding, Content-Length counts the compressed bytes while the body yields the decoded ones.
  const length = Number(response.headers.get('content-length'));
  const total = response.headers.has('content-encoding') || !(length > 0) ? undefined : length;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  progress(loaded, total);
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.length;
        progress(loaded, total);
      }
    } catch (e) {
      throw new DownloadError(`${what} ${url}: the download broke off after ${loaded} bytes (${(e as Error).message})`);
    }
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}
