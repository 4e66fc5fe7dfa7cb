/** Rewrites the generated sample events under events/ (see samples.ts). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './handlers.ts';
import { generateSamples } from './samples.ts';

for (const [path, content] of Object.entries(await generateSamples())) {
  writeFileSync(resolve(ROOT, 'events', path), `${JSON.stringify(content, null, 2)}\n`);
  console.log(`events/${path}`);
}
