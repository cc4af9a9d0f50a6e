// Annotations (::error::, ::warning::, ::notice:: of GitHub's workflow commands) and step summaries
// (GITHUB_STEP_SUMMARY): what a runner reports with a task's result and the API shows on it.
import { Type } from '@sinclair/typebox';
import {
  ANNOTATION_LEVELS,
  MAX_ANNOTATION_MESSAGE_CHARS,
  MAX_ANNOTATIONS_PER_TASK,
  STEP_SUMMARY_MAX_BYTES,
} from './annotation-limits.ts';

const Position = Type.Optional(Type.Integer({ minimum: 1 }));
/** Room for the note a cut adds. */
const TEXT_MAX = MAX_ANNOTATION_MESSAGE_CHARS + 100;

export const AnnotationSchema = Type.Object(
  {
    level: Type.Union(ANNOTATION_LEVELS.map((l) => Type.Literal(l))),
    message: Type.String({ maxLength: TEXT_MAX }),
    /** The step's name, as the task's results list it. */
    step: Type.String(),
    title: Type.Optional(Type.String({ maxLength: TEXT_MAX })),
    file: Type.Optional(Type.String({ maxLength: TEXT_MAX })),
    line: Position,
    endLine: Position,
    col: Position,
    endColumn: Position,
  },
  { additionalProperties: false },
);

export const AnnotationsSchema = Type.Array(AnnotationSchema, { maxItems: MAX_ANNOTATIONS_PER_TASK });

export const StepSummarySchema = Type.Object(
  {
    step: Type.String(),
    /** Markdown as the step wrote it (masked). Shown rendered, with HTML escaped. */
    markdown: Type.String({ maxLength: STEP_SUMMARY_MAX_BYTES }),
  },
  { additionalProperties: false },
);

export const StepSummariesSchema = Type.Array(StepSummarySchema, { maxItems: 1000 });
