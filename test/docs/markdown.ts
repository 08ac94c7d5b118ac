/**
 * @file Markdown helpers for the documentation tests: the fenced code blocks of a file (with their info
 * string, heading and line) and its relative links.
 */

/** One fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The language, the first word of the info string (`ts`, `sh`, ...). */
  lang: string;
  /** The words after the language in the info string (for example `continues`, `ignore`). */
  flags: string[];
  /** The block's text, without the fences. */
  code: string;
  /** The 1-based line of the opening fence. */
  line: number;
  /** The text of the closest heading above the block (`""` before the first). */
  heading: string;
  /** The HTML comment `<!-- prelude: ... -->` directly above the block, if any (its text after "prelude:", which may span lines). */
  prelude?: string;
}

/**
 * The fenced code blocks (```` ``` ```` or `~~~`) of a Markdown text, in order.
 *
 * @example
 * codeBlocks("# A\n```ts\nconst x = 1;\n```\n")[0]; // { lang: "ts", code: "const x = 1;\n", heading: "A", ... }
 */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const headingMatch = /^#{1,6}\s+(.*)$/.exec(line);
    if (headingMatch) {
      heading = headingMatch[1].trim();
      continue;
    }
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`]*)$/.exec(line);
    if (!open) continue;
    const fence = open[2];
    const [lang = "", ...flags] = open[3].trim().split(/\s+/).filter(Boolean);
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trim().startsWith(fence)) body.push(lines[j++]);
    // an HTML comment `<!-- prelude: ... -->` (one or more lines) ending directly above the fence
    let prelude: string | undefined;
    let end = i - 1;
    while (end >= 0 && lines[end].trim() === "") end--;
    if (end >= 0 && lines[end].trim().endsWith("-->")) {
      let start = end;
      while (start > 0 && !lines[start].trim().startsWith("<!--")) start--;
      const text = lines
        .slice(start, end + 1)
        .join("\n")
        .trim();
      const comment = /^<!--\s*prelude:\s*([\s\S]*?)\s*-->$/.exec(text);
      if (comment) prelude = comment[1];
    }
    blocks.push({ lang, flags, code: `${body.join("\n")}\n`, line: i + 1, heading, prelude });
    i = j;
  }
  return blocks;
}

/**
 * The relative targets of the Markdown links and images of a text (`[a](path)`, `![a](path)`,
 * `<img src="path">`), without `#fragments`; absolute URLs and pure anchors are left out. Code blocks
 * and inline code are skipped.
 *
 * @example
 * relativeLinks("see [the guide](docs/guides/taylor.md#rates) and [pyadjoint](https://pyadjoint.org)");
 * // ["docs/guides/taylor.md"]
 */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, "").replace(/`[^`\n]*`/g, "");
  const targets: string[] = [];
  for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|<img[^>]*\ssrc="([^"]+)"/g)) {
    const target = (match[1] ?? match[2]).split("#")[0];
    if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    targets.push(decodeURI(target));
  }
  return targets;
}
