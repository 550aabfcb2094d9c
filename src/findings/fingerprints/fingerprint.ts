import { createHash } from 'node:crypto';
import { maskMessage } from './mask.js';

// Frames of code that is not the application's: installed gems (system, bundler, vendored,
// bundler's git checkouts), Ruby's standard library and its internals
const LIBRARY_FRAME = [
  /(^|\/)gems\//,
  /(^|\/)vendor\//,
  /(^|\/)lib\/ruby\//,
  /(^|\/)rubygems[^/]*\//,
  /(^|\/)ruby\/\d+\.\d+\.\d+\//,
  /^<internal:/,
  /^\(eval/,
];

// Ruby's frame: "path:line:in `method'" (before 3.4) or "path:line:in 'Class#method'" (3.4)
const FRAME = /^(.*?):\d+(?::in [`'](.*)')?$/;

/** Job classes kept per fingerprint; more are told by job_classes_truncated. */
export const MAX_CLASSES = 20;

/** Backtrace lines read when looking for the application's frame. */
export const FRAMES_READ = 60;

export function isLibraryFrame(line: string): boolean {
  return LIBRARY_FRAME.some((pattern) => pattern.test(line));
}

/**
 * A frame without what changes between deploys and hosts: the line number goes (code above it
 * moves with every change), and digits in the path (Capistrano's releases/20261204120000/, a
 * Ruby version) are masked like a message's.
 */
export function normalizeFrame(line: string): string {
  const m = FRAME.exec(line.trim());
  const path = (m ? m[1] : line.trim()).replace(/\d+/g, '<n>');
  const method = m?.[2]?.replace(/\d+/g, '<n>');
  return method ? `${path} in ${method}` : path;
}

/**
 * The first frame of the application's code, normalized; the first frame at all when every frame is
 * a library's (the error is then told apart by where it surfaced); null without a backtrace.
 */
export function applicationFrame(backtrace: readonly string[] | null): string | null {
  if (!backtrace || backtrace.length === 0) {
    return null;
  }
  const lines = backtrace.slice(0, FRAMES_READ).filter((l) => l.trim() !== '');
  const frame = lines.find((l) => !isLibraryFrame(l)) ?? lines[0];
  return frame === undefined ? null : normalizeFrame(frame);
}

export interface FailureShape {
  errorClass: string;
  message: string;
  frame: string | null;
}

export interface Fingerprint extends FailureShape {
  /** 16 hex characters */
  fingerprint: string;
}

/** What groups a failure: its error class, masked message and application frame, and their hash. */
export function fingerprintOf(
  errorClass: string,
  message: string | null,
  backtrace: readonly string[] | null,
): Fingerprint {
  const shape = { errorClass, message: maskMessage(message), frame: applicationFrame(backtrace) };
  const fingerprint = createHash('sha256')
    .update(`${shape.errorClass}\n${shape.message}\n${shape.frame ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  return { ...shape, fingerprint };
}
