// Annotations (::error::, ::warning::, ::notice:: of GitHub's workflow commands) and step summaries
// (GITHUB_STEP_SUMMARY): what a runner reports with a task's result and the API shows on it.
import { Type, type Static } from '@sinclair/typebox';

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

const Position = Type.Optional(Type.Integer({ minimum: 1 }));
/** Room for the note a cut adds. */
const TEXT_MAX = MAX_ANNOTATION_MESSAGE_CHARS + 100;

export const AnnotationSchema = Type.Object(
  {
    level: Type.Union(ANNOTATION_LEVELS.map((l) => Type.Literal(l))),
    message: Type.String({ maxLength: TEXT_MAX }),
    /** The step's name, as the task's results list it. */
    step: Type.String({ maxLength: 1000 }),
    title: Type.Optional(Type.String({ maxLength: TEXT_MAX })),
    file: Type.Optional(Type.String({ maxLength: TEXT_MAX })),
    line: Position,
    endLine: Position,
    col: Position,
    endColumn: Position,
  },
  { additionalProperties: false },
);
export type Annotation = Static<typeof AnnotationSchema>;

export const AnnotationsSchema = Type.Array(AnnotationSchema, { maxItems: MAX_ANNOTATIONS_PER_TASK });

export const StepSummarySchema = Type.Object(
  {
    step: Type.String({ maxLength: 1000 }),
    /** Markdown as the step wrote it (masked). Shown rendered, with HTML escaped. */
    markdown: Type.String({ maxLength: STEP_SUMMARY_MAX_BYTES }),
  },
  { additionalProperties: false },
);
export type StepSummary = Static<typeof StepSummarySchema>;

export const StepSummariesSchema = Type.Array(StepSummarySchema, { maxItems: 1000 });
