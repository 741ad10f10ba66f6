import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { serviceDeclaration } from '@grantstream/contracts';
import { TopicScanner, createPlatformClients, type PlatformClients } from '@grantstream/kafka';
import type { GrantLogger } from '@grantstream/logging';
import { Projector, ReadModelStore } from '@grantstream/read-model';
import { loadRulePacks } from '@grantstream/rules';
import { LocalUsersProvider } from './auth/identity-provider';
import { SessionStore } from './auth/sessions';
import { readUsersFile } from './auth/users-file';
import { stageReplicasOf, type ConsoleConfig } from './console.config';
import { ConsoleServer } from './http/console-server';
import { ChartHistory } from './charts/chart-history';
import { FundersMonitor, funderCalendars } from './funders/funders-monitor';
import { PipelineMonitor } from './pipeline/pipeline-monitor';
import { ConsoleRedriver } from './redrive/console-redriver';

/** The version the console's REDRIVEN audit events carry. */
export const CONSOLE_VERSION = '0.1.0';

/** Injection token of the console's validated configuration. */
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
/** Injection token of the console's logger. */
export const CONSOLE_LOGGER = Symbol('CONSOLE_LOGGER');

/**
 * The console's parts and their lifecycle: the read model's store and
 * projector, the broker clients they read with, and the HTTP server. Started
 * when the Nest application boots, in dependency order, and stopped in the
 * reverse order when it shuts down. The users file is read at start: a
 * console without valid users refuses to start.
 */
@Injectable()
export class ConsoleRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private clients: PlatformClients | null = null;
  private scanner: TopicScanner | null = null;
  private storeHandle: ReadModelStore | null = null;
  private projectorHandle: Projector | null = null;
  private server: ConsoleServer | null = null;
  private pipeline: PipelineMonitor | null = null;
  private charts: ChartHistory | null = null;
  private fundersMonitor: FundersMonitor | null = null;
  /** The console's URL once it listens. */
  url = '';

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(CONSOLE_LOGGER) private readonly logger: GrantLogger,
  ) {}

  /** The read model's store (open while the application runs). */
  get store(): ReadModelStore {
    if (!this.storeHandle) throw new Error('the console is not running');
    return this.storeHandle;
  }

  /** The projector keeping the store up with the topics. */
  get projector(): Projector {
    if (!this.projectorHandle) throw new Error('the console is not running');
    return this.projectorHandle;
  }

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config.console;
    const users = readUsersFile(c.usersFile);
    // Each funder's time zone and holidays: a console that cannot read the packs refuses to start.
    const calendars = funderCalendars(loadRulePacks(this.config.rules.packDir));
    this.storeHandle = ReadModelStore.open(c.readModel.storePath);
    this.clients = createPlatformClients(this.config, this.logger);
    this.scanner = new TopicScanner(this.clients.kafka);
    const clients = this.clients;
    this.projectorHandle = new Projector({
      store: this.storeHandle,
      scanner: this.scanner,
      serde: clients.serde,
      settings: c.readModel,
      logger: this.logger.child({ component: 'read-model' }),
    });
    this.projectorHandle.start();
    this.pipeline = new PipelineMonitor({
      replicas: stageReplicasOf(this.config),
      // Every stage declares the same ready probe (schemas/pipeline.yaml).
      probe: serviceDeclaration('ingest').probe,
      refreshMs: c.pipeline.refreshMs,
      probeTimeoutMs: c.pipeline.probeTimeoutMs,
      logger: this.logger.child({ component: 'pipeline' }),
      now: Date.now,
    });
    this.charts = new ChartHistory(c.charts);
    this.fundersMonitor = new FundersMonitor({
      store: this.storeHandle,
      calendars,
      defaultCalendar: {
        timeZone: 'UTC',
        holidays: [],
        bufferBusinessDays: c.funders.defaultBufferBusinessDays,
      },
      retryTopicPattern: new RegExp(this.config.submission.retryTopicPattern),
      passedDeadlineWindowMs: c.funders.passedDeadlineWindowMs,
      maxAtRisk: c.funders.maxAtRisk,
      history: this.charts,
      logger: this.logger.child({ component: 'funders' }),
    });
    const funders = this.fundersMonitor;
    this.pipeline.subscribeScrapes((scrape) => funders.observe(scrape));
    this.pipeline.start();
    this.server = new ConsoleServer({
      store: this.storeHandle,
      lag: () => this.projector.lag(),
      identity: new LocalUsersProvider(users, c.scrypt.maxMemoryBytes),
      sessions: new SessionStore(c.session),
      decode: (value) => clients.serde.decode(value),
      redriver: new ConsoleRedriver({
        clients,
        store: this.storeHandle,
        projector: this.projectorHandle,
        deadLetterTopic: c.readModel.topics.deadLetters,
        auditTopic: c.readModel.topics.audit,
        refuseCategories: this.config.dlq.refuseCategories,
        batchSize: this.config.dlq.redriveBatchSize,
        transactionalId: c.redrive.transactionalId,
        service: { name: 'grantstream-console', version: CONSOLE_VERSION },
        now: Date.now,
      }),
      settings: c,
      pipeline: this.pipeline,
      funders: this.fundersMonitor,
      charts: this.charts,
      logger: this.logger,
      now: Date.now,
    });
    this.url = await this.server.listen();
    this.logger.info({ url: this.url, users: users.length }, 'console listening');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
    this.pipeline?.stop();
    this.pipeline = null;
    this.fundersMonitor = null;
    this.charts = null;
    await this.projectorHandle?.stop();
    await this.scanner?.close();
    this.storeHandle?.close();
    await this.clients?.close();
    this.server = null;
    this.projectorHandle = null;
    this.scanner = null;
    this.storeHandle = null;
    this.clients = null;
  }
}
