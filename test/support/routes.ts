import type { INestApplication } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { IS_PUBLIC } from '../../src/auth/public.decorator.js';
import { REQUIRED_SCOPES } from '../../src/auth/scopes.decorator.js';

export interface RouteInfo {
  method: string;
  path: string;
  public: boolean;
  scopes: string[] | undefined;
}

/** Every HTTP route of the app, read from controller metadata (as Twenty's route census does). */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const reflector = app.get(Reflector);
  const routes: RouteInfo[] = [];
  for (const wrapper of discovery.getControllers()) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    const metatype = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
    if (!instance || !metatype) {
      continue;
    }
    const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
    for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
      const handler = instance[name] as (...args: unknown[]) => unknown;
      const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (sub === undefined) {
        continue;
      }
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const path =
        '/' +
        [base, sub]
          .map((p) => p.replace(/^\/|\/$/g, ''))
          .filter(Boolean)
          .join('/');
      routes.push({
        method,
        path,
        public: reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, metatype]) ?? false,
        scopes: reflector.getAllAndOverride<string[]>(REQUIRED_SCOPES, [handler, metatype]),
      });
    }
  }
  return routes;
}
