// Worker threads start here: register the TypeScript loader for this thread, then run the worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
