import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { GrantLogger } from '@grantstream/logging';
import type { ConsoleConfig } from './console.config';
import { ConsoleModule } from './console.module';
import { ConsoleRuntime } from './console-runtime';

/** A running console: its URL, its parts, and how to stop it. */
export interface RunningConsole {
  url: string;
  runtime: ConsoleRuntime;
  close(): Promise<void>;
}

/** Boots the console's Nest application context (no HTTP adapter: the console serves with node:http). */
export async function startConsole(
  config: ConsoleConfig,
  logger: GrantLogger,
): Promise<RunningConsole> {
  const app = await NestFactory.createApplicationContext(ConsoleModule.forRoot(config, logger), {
    logger: false,
    abortOnError: false,
  });
  await app.init();
  const runtime = app.get(ConsoleRuntime);
  return { url: runtime.url, runtime, close: () => app.close() };
}
