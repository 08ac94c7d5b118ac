/**
 * @file A tiny static file server on 127.0.0.1 (node:http), used by `npm run playground` and by the browser
 * tests. 127.0.0.1 is a secure context, so module workers, WebGPU and the like are offered as on a real site.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { extname, resolve } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/**
 * Serves the files of `dir` on 127.0.0.1 (`port` 0: a free one).
 *
 * @example
 * const { url, server } = await serve("playground-dist", 5173);
 */
export async function serve(dir: string, port = 0): Promise<{ url: string; server: Server }> {
  const root = resolve(dir);
  const server = createServer(async (request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://127.0.0.1").pathname);
    const path = resolve(root, `.${pathname.endsWith("/") ? `${pathname}index.html` : pathname}`);
    if (!path.startsWith(root)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(path);
      response.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the static server has no port");
  return { url: `http://127.0.0.1:${address.port}`, server };
}
