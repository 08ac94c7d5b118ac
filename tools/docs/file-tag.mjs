/**
 * @file A TypeDoc plugin: the sources open with a `/** @file ... *\/` comment (JSDoc's name for a file
 * overview). Where such a comment documents a module (the entry points, which also carry `@module`), its
 * `@file` text becomes the module's summary instead of a "File" section.
 */
import { Converter } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of Object.values(context.project.reflections)) {
      const comment = reflection.comment;
      const tag = comment?.getTag("@file");
      if (!comment || !tag) continue;
      comment.summary = [...tag.content, ...comment.summary];
      comment.removeTags("@file");
    }
  });
}
