import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator.js';

// The page's files: dashboard/ at the project root (two levels up from src/dashboard, three from
// dist/src/dashboard), and uPlot from node_modules. Listed once at startup; only these names are
// served, so a request can never name a file outside them.
const ROOT = join(projectRoot(dirname(fileURLToPath(import.meta.url))), 'dashboard');
const UPLOT = dirname(createRequire(import.meta.url).resolve('uplot'));

interface Asset {
  file: string;
  type: string;
}
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const MODULE_NAME = /^[a-z0-9-]+\.js$/;

/** The page's browser modules in `folder` (dashboard/ or dashboard/views/), by file name. */
function modules(folder: string): Record<string, Asset> {
  return Object.fromEntries(
    readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isFile() && MODULE_NAME.test(entry.name))
      .map((entry) => [entry.name, { file: join(folder, entry.name), type: JS }]),
  );
}

const ASSETS: Record<string, Asset> = {
  ...modules(ROOT),
  'style.css': { file: join(ROOT, 'style.css'), type: CSS },
};
const VIEWS: Record<string, Asset> = modules(join(ROOT, 'views'));
const VENDOR: Record<string, Asset> = {
  'uplot.js': { file: join(UPLOT, 'uPlot.esm.js'), type: JS },
  'uplot.css': { file: join(UPLOT, 'uPlot.min.css'), type: CSS },
};

// Scripts and styles from this origin only; no inline code, no framing, API calls to self.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const cache = new Map<string, string>();
function read(file: string): string {
  let text = cache.get(file);
  if (text === undefined) {
    text = readFileSync(file, 'utf8');
    cache.set(file, text);
  }
  return text;
}

function send(res: Response, asset: Asset | undefined): void {
  if (!asset) {
    throw new NotFoundException('No such dashboard file');
  }
  res
    .status(200)
    .set({
      'content-type': asset.type,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    })
    .send(read(asset.file));
}

/**
 * The /sidekiq dashboard's static shell. Public: it holds no data; every number on the page comes
 * from the API with the signed-in token.
 */
@ApiExcludeController()
@Public()
@Controller('sidekiq')
export class DashboardController {
  @Get()
  @Header('content-security-policy', CSP)
  @Header('referrer-policy', 'no-referrer')
  page(@Res() res: Response): void {
    send(res, { file: join(ROOT, 'index.html'), type: 'text/html; charset=utf-8' });
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() res: Response): void {
    send(res, Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined);
  }

  @Get('assets/views/:name')
  view(@Param('name') name: string, @Res() res: Response): void {
    send(res, Object.hasOwn(VIEWS, name) ? VIEWS[name] : undefined);
  }

  @Get('vendor/:name')
  vendor(@Param('name') name: string, @Res() res: Response): void {
    send(res, Object.hasOwn(VENDOR, name) ? VENDOR[name] : undefined);
  }
}

/** The nearest folder up from `dir` that holds package.json. */
function projectRoot(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) {
      return at;
    }
    if (dirname(at) === at) {
      throw new Error(`No package.json above ${dir}`);
    }
  }
}
