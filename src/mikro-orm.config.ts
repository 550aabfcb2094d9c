import { databaseUrlFromEnv } from './config/env.schema.js';
import { ormOptions } from './ormconfig.js';

// For the MikroORM CLI only (package.json "mikro-orm".configPaths → dist/mikro-orm.config.js);
// STYLE.md's one allowed default export.
export default ormOptions(databaseUrlFromEnv());
