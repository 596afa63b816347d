import { runService } from '@puhui/service';
import { loadStarterKitConfig } from './config';
import { starterKitService } from './service';

runService(starterKitService(loadStarterKitConfig()));
