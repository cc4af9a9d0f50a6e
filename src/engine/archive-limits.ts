// Limits on zip archives the engine reads (artifacts in) and writes (uploads out). Defined once in the
// protocol, because the server applies the same ones to every archive a runner uploads.

export { ARCHIVE_LIMITS, archiveLimits, type ArchiveLimits } from '../protocol/archive-rules.ts';
