/** `noop`: passes everything through. Useful to test the API and the toxicity machinery. */
import { z } from 'zod';
import { attributeParser } from './attributes.js';
import { NULL_SINK, PassStage } from './pass-stage.js';
import type { ToxicDefinition } from './toxic.js';

/** `noop` takes no attributes. */
export const noopAttributes = z.object({});

export const noopToxic: ToxicDefinition = {
  type: 'noop',
  phase: 'stream',
  summary: 'passes data through unchanged',
  parse: attributeParser(noopAttributes),
  createStage: (_attributes, ctx) => new PassStage(NULL_SINK, ctx),
};
