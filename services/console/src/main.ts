import { runService } from '@puhui/service';
import { loadConsoleConfig } from './config';
import { consoleService } from './service';

runService(consoleService(loadConsoleConfig()));
