// Annotations (::error::, ::warning::, ::notice:: of GitHub's workflow commands) and step summaries
// (GITHUB_STEP_SUMMARY): their limits and shapes, without a schema library (a runner loads this file;
// annotations.ts holds the API's schemas).

/** GitHub's per-step limits ("10 warning annotations and 10 error annotations per step"); notices too. */
export const MAX_ANNOTATIONS_PER_STEP = 10;
/** GitHub's per-job limit ("50 annotations per job"). */
export const MAX_ANNOTATIONS_PER_TASK = 50;
/** Characters of an annotation's message, title and file that are kept; the rest is cut with a note. */
export const MAX_ANNOTATION_MESSAGE_CHARS = 4096;
/** GitHub's limit for one step's summary: 1 MiB. */
export const STEP_SUMMARY_MAX_BYTES = 1024 * 1024;
/** All of a task's step summaries together (they travel in the task's result, under the 8 MiB body limit). */
export const TASK_SUMMARY_MAX_BYTES = 2 * 1024 * 1024;

export const ANNOTATION_LEVELS = ['error', 'warning', 'notice'] as const;
export type AnnotationLevel = (typeof ANNOTATION_LEVELS)[number];

export interface Annotation {
  level: AnnotationLevel;
  message: string;
  /** The step's name, as the task's results list it. */
  step: string;
  title?: string;
  file?: string;
  line?: number;
  endLine?: number;
  col?: number;
  endColumn?: number;
}

export interface StepSummary {
  step: string;
  /** Markdown as the step wrote it (masked). */
  markdown: string;
}
