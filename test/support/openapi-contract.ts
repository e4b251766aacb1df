/**
 * Checks HTTP responses against an OpenAPI 3.0 document: the status is listed for the
 * operation (or a `default`), the content type is one of the declared media types, a JSON
 * body validates against the declared schema (Ajv, `$ref`s resolved to the components) and
 * every documented response header is present. Used by test/http/openapi-contract.test.ts.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

// ajv-formats is CommonJS: the ESM default import is module.exports, whose `default` is the plugin.
const addFormats = ajvFormats.default;

export interface MediaType {
  schema?: object;
}
export interface ResponseDoc {
  description?: string;
  headers?: Record<string, { schema?: { type?: string } }>;
  content?: Record<string, MediaType>;
}
export interface OperationDoc {
  operationId?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses: Record<string, ResponseDoc>;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationDoc>>;
  components?: { schemas?: Record<string, object> };
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export interface OperationEntry {
  method: string;
  path: string;
  operation: OperationDoc;
  pattern: RegExp;
}

/** Every operation of the document, with a regular expression matching its concrete paths. */
export function operationsOf(document: OpenApiDocument): OperationEntry[] {
  const entries: OperationEntry[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const pattern = new RegExp(
      `^${path
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('')}$`,
    );
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) entries.push({ method: method.toUpperCase(), path, operation, pattern });
    }
  }
  return entries;
}

/** The operation a request (method and path, without the query) belongs to, or undefined. */
export function findOperation(entries: OperationEntry[], method: string, pathname: string): OperationEntry | undefined {
  // A literal path wins over a template (none overlap in Gatekeeper, but be exact).
  const matches = entries.filter((e) => e.method === method.toUpperCase() && e.pattern.test(pathname));
  return matches.find((e) => !e.path.includes('{')) ?? matches[0];
}

/** A media type without its parameters, lower case: `text/plain; version=0.0.4` → `text/plain`. */
export function essence(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}

export class ContractChecker {
  readonly entries: OperationEntry[];
  readonly #ajv: Ajv;
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {
    this.entries = operationsOf(document);
    this.#ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.#ajv);
  }

  /**
   * The problems with one response (empty when the document describes it). `body` is the
   * response's text. Returns the operation it was matched to as well.
   */
  check(
    method: string,
    url: URL,
    status: number,
    headers: Headers,
    body: string,
  ): { operation: OperationEntry | undefined; problems: string[] } {
    const where = `${method} ${url.pathname} → ${status}`;
    const operation = findOperation(this.entries, method, url.pathname);
    if (!operation) return { operation, problems: [`${where}: no such operation in the document`] };
    const response = operation.operation.responses[String(status)] ?? operation.operation.responses['default'];
    if (!response) {
      const listed = Object.keys(operation.operation.responses).join(', ');
      return { operation, problems: [`${where}: status not documented (documented: ${listed})`] };
    }
    const problems: string[] = [];
    for (const name of Object.keys(response.headers ?? {})) {
      const value = headers.get(name);
      if (value === null) problems.push(`${where}: documented header ${name} is missing`);
      else if (response.headers?.[name]?.schema?.type === 'integer' && !/^\d+$/.test(value))
        problems.push(`${where}: header ${name} should be an integer, is ${JSON.stringify(value)}`);
    }
    const declared = Object.keys(response.content ?? {});
    const contentType = headers.get('content-type');
    if (declared.length === 0) {
      if (body !== '') problems.push(`${where}: a body where the document declares none`);
      return { operation, problems };
    }
    if (contentType === null) {
      problems.push(`${where}: no content type; the document declares ${declared.join(', ')}`);
      return { operation, problems };
    }
    const media = declared.find((name) => essence(name) === essence(contentType));
    if (media === undefined) {
      problems.push(`${where}: content type ${contentType} is not one of ${declared.join(', ')}`);
      return { operation, problems };
    }
    const schema = response.content![media]!.schema;
    if (schema === undefined) return { operation, problems };
    let data: unknown = body;
    if (essence(media) === 'application/json' || essence(media).endsWith('+json')) {
      try {
        data = JSON.parse(body);
      } catch {
        problems.push(`${where}: the body is not JSON: ${body.slice(0, 200)}`);
        return { operation, problems };
      }
    }
    const validate = this.#validator(`${operation.method} ${operation.path} ${status} ${media}`, schema);
    if (!validate(data)) {
      problems.push(`${where}: the body does not match the schema: ${this.#ajv.errorsText(validate.errors)}`);
    }
    return { operation, problems };
  }

  /** Compiles a response schema with the document's components beside it, so `#/components/...` resolves. */
  #validator(key: string, schema: object): ValidateFunction {
    let validate = this.#validators.get(key);
    if (!validate) {
      validate = this.#ajv.compile({ allOf: [schema], components: this.document.components ?? {} });
      this.#validators.set(key, validate);
    }
    return validate;
  }
}
