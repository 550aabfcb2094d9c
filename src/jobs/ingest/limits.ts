// job_class and queue share btree index rows (at most 2,704 bytes each) with other columns
export const MAX_NAME_BYTES = 1024;
