// Renders test vectors with the real @portkey-ai/mustache: JSON array on stdin,
// JSON array of {"output": ...} or {"error": ...} on stdout.
import Mustache from '@portkey-ai/mustache';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const results = cases.map(({ template, view, partials }) => {
  try {
    return { output: Mustache.render(template, view, partials === null ? undefined : partials) };
  } catch (e) {
    return { error: `${e}` };
  }
});
process.stdout.write(JSON.stringify(results));
