#!/usr/bin/env node
/** Entry point of `npm run approve|deny|breaker|approvals`: see OPERATOR_USAGE in operator-command.ts. */
import { dynamoDbClient, sfnClient } from '#aws/clients.ts';
import { DynamoDbLedger } from '#aws/dynamodb-ledger.ts';
import { StepFunctionsTaskTokens } from '#aws/stepfunctions.ts';
import { systemClock } from '#shared/clock.ts';
import { runOperator } from './operator-command.ts';

const [command, ...argv] = process.argv.slice(2);
if (command !== 'approve' && command !== 'deny' && command !== 'breaker' && command !== 'approvals') {
  process.stderr.write('operator: expected approve, deny, breaker or approvals\n');
  process.exitCode = 2;
} else {
  process.exitCode = await runOperator(
    command,
    argv,
    { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
    (table) => ({
      ledger: new DynamoDbLedger(dynamoDbClient(), { tableName: table, clock: systemClock }),
      workflows: new StepFunctionsTaskTokens(sfnClient(), { clock: systemClock }),
      clock: systemClock,
    }),
    { table: process.env.CRAWLGUARD_LEDGER_TABLE, user: process.env.USER },
  );
}
