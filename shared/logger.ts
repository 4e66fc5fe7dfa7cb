import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger of every function (structured JSON; level from POWERTOOLS_LOG_LEVEL). */
export const logger = new Logger({ serviceName: 'crawlguard' });
