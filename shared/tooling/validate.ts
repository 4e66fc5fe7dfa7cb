/**
 * `npm run validate [-- --template FILE] [--base-dir DIR] [--rule ID]...`: checks template.yaml offline
 * before a deploy — the rules of shared/tooling/validate/rules.ts. Prints one line per rule (pass, FAIL
 * or skip) and one line per problem under a failed rule; exits 1 when a rule fails, 2 on bad arguments.
 */
import { relative, resolve } from 'node:path';
import { parseCommandLine, UsageError } from '#shared/cli/command-line.ts';
import { formatReport, PARSE_TITLE, RULES, type RuleId, validateTemplate } from './validate/rules.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RULE_IDS: readonly string[] = ['parse', ...RULES.map((rule) => rule.id)];
const HELP = `usage: npm run validate [-- --template FILE] [--base-dir DIR] [--rule ID]...
  --template FILE   the template (default: template.yaml of the project)
  --base-dir DIR    where its relative paths start (default: the template's folder)
  --rule ID         run only this rule (repeatable): ${RULE_IDS.join(', ')}
rules:
  parse             ${PARSE_TITLE}
${RULES.map((rule) => `  ${rule.id.padEnd(18)}${rule.title}`).join('\n')}`;

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    template: { type: 'string' },
    'base-dir': { type: 'string' },
    rule: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]} (see --help)`);
  for (const rule of values.rule ?? [])
    if (!RULE_IDS.includes(rule)) throw new UsageError(`unknown rule ${rule} (see --help)`);
  const template = resolve(values.template ?? resolve(ROOT, 'template.yaml'));
  const outcomes = await validateTemplate(template, {
    ...(values['base-dir'] === undefined ? {} : { baseDir: values['base-dir'] }),
    ...(values.rule === undefined ? {} : { only: values.rule as RuleId[] }),
  });
  console.log(formatReport(relative(process.cwd(), template) || template, outcomes));
  return outcomes.some((outcome) => outcome.status === 'fail') ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`validate: ${(error as Error).message}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
