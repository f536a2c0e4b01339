/** DatasetError lives in src/errors.ts with the other error classes; re-exported here for the data modules. */
export { DatasetError } from '../errors.js';
