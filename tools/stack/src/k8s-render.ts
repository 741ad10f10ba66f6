import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A small, strict stand-in for `kustomize build`, for the subset k8s/ uses:
 * `resources` (files and directories), `patches` (strategic merge or JSON 6902,
 * by name or by target kind/name/labelSelector), `images` (newName/newTag) and
 * `namespace`. A cold `go run sigs.k8s.io/kustomize/kustomize/v5` took 95 s on
 * a 2-core machine, too slow and network-bound for a unit test, so the test
 * renders with this instead; anything outside the subset throws rather than
 * being silently ignored (see k8s/README.md).
 */

/** A rendered Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonMap = { [key: string]: Json };

const isMap = (v: unknown): v is JsonMap =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'patches',
  'images',
]);

/** Kinds the namespace transformer leaves alone; every other kind (CRDs included) is namespaced. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

/** Kinds whose lists merge by key under strategic merge (kustomize knows their schemas). */
const BUILT_IN = new Set([
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Service',
  'ConfigMap',
  'Secret',
  'PodDisruptionBudget',
  'PersistentVolumeClaim',
  'NetworkPolicy',
  'Namespace',
]);

/** Parses a multi-document YAML text; any syntax error throws, naming `source`. */
export function parseManifests(text: string, source: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    const problem = doc.errors[0];
    if (problem) throw new Error(`${source}: ${problem.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isMap(value)) throw new Error(`${source}: a document is not a mapping`);
    const metadata = value['metadata'];
    if (
      typeof value['apiVersion'] !== 'string' ||
      typeof value['kind'] !== 'string' ||
      !isMap(metadata) ||
      typeof metadata['name'] !== 'string'
    ) {
      throw new Error(`${source}: a document lacks apiVersion, kind or metadata.name`);
    }
    out.push(value as unknown as K8sObject);
  }
  return out;
}

/** Renders the kustomization in `dir` as `kustomize build dir` would, for the supported subset. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const k = parseYamlMap(readFileSync(file, 'utf8'), file);
  for (const field of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(field)) throw new Error(`${file}: unsupported field ${field}`);
  }

  let objects: K8sObject[] = [];
  for (const entry of asStrings(k['resources'] ?? [], `${file}: resources`)) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new Error(`${file}: resource ${entry} not found`);
    objects.push(
      ...(statSync(path).isDirectory()
        ? kustomizeBuild(path)
        : parseManifests(readFileSync(path, 'utf8'), path)),
    );
  }
  assertUniqueIds(objects, file);

  for (const [i, patch] of asArray(k['patches'] ?? [], `${file}: patches`).entries()) {
    objects = applyPatch(objects, patch, dir, `${file}: patches[${i}]`);
  }
  for (const image of asArray(k['images'] ?? [], `${file}: images`)) {
    applyImage(objects, image, file);
  }
  const namespace = k['namespace'];
  if (namespace !== undefined) {
    if (typeof namespace !== 'string') throw new Error(`${file}: namespace must be a string`);
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = namespace;
  }
  return objects;
}

function parseYamlMap(text: string, source: string): JsonMap {
  const docs = parseAllDocuments(text);
  const doc = docs[0];
  if (docs.length !== 1 || !doc) throw new Error(`${source}: expected one YAML document`);
  const problem = doc.errors[0];
  if (problem) throw new Error(`${source}: ${problem.message}`);
  const value: unknown = doc.toJS();
  if (!isMap(value)) throw new Error(`${source}: expected a mapping`);
  return value;
}

function asArray(v: Json, what: string): Json[] {
  if (!Array.isArray(v)) throw new Error(`${what} must be a list`);
  return v;
}

function asStrings(v: Json, what: string): string[] {
  return asArray(v, what).map((e) => {
    if (typeof e !== 'string') throw new Error(`${what} must list strings`);
    return e;
  });
}

const idOf = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function assertUniqueIds(objects: readonly K8sObject[], file: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = idOf(o);
    if (seen.has(id)) throw new Error(`${file}: ${id} is defined twice`);
    seen.add(id);
  }
}

interface Target {
  kind?: string;
  name?: string;
  labels: Record<string, string>;
}

function parseTarget(v: Json | undefined, where: string): Target | undefined {
  if (v === undefined) return undefined;
  if (!isMap(v)) throw new Error(`${where}: target must be a mapping`);
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new Error(`${where}: target.${key} must be a string`);
    if (key === 'labelSelector') {
      for (const term of value.split(',')) {
        const m = /^\s*([^=!\s]+)\s*==?\s*([^=!\s]*)\s*$/.exec(term);
        if (!m?.[1]) throw new Error(`${where}: only k=v label selectors are supported`);
        labels[m[1]] = m[2] ?? '';
      }
    } else if (key !== 'kind' && key !== 'name') {
      throw new Error(`${where}: unsupported target field ${key}`);
    }
  }
  const kind = v['kind'];
  const name = v['name'];
  return {
    ...(typeof kind === 'string' ? { kind } : {}),
    ...(typeof name === 'string' ? { name } : {}),
    labels,
  };
}

function matches(o: K8sObject, t: Target): boolean {
  if (t.kind !== undefined && o.kind !== t.kind) return false;
  if (t.name !== undefined && o.metadata.name !== t.name) return false;
  return Object.entries(t.labels).every(([k, v]) => o.metadata.labels?.[k] === v);
}

function applyPatch(objects: K8sObject[], entry: Json, dir: string, where: string): K8sObject[] {
  if (!isMap(entry)) throw new Error(`${where}: must be a mapping`);
  for (const key of Object.keys(entry)) {
    if (!['path', 'patch', 'target'].includes(key)) throw new Error(`${where}: unsupported ${key}`);
  }
  const path = entry['path'];
  const inline = entry['patch'];
  let text: string;
  if (typeof path === 'string' && inline === undefined) {
    text = readFileSync(resolve(dir, path), 'utf8');
  } else if (typeof inline === 'string' && path === undefined) {
    text = inline;
  } else {
    throw new Error(`${where}: give exactly one of path and patch`);
  }
  const body = parseYamlDocument(text, where);
  const target = parseTarget(entry['target'], where);

  if (Array.isArray(body)) {
    if (!target) throw new Error(`${where}: a JSON 6902 patch needs a target`);
    const hits = objects.filter((o) => matches(o, target));
    if (hits.length === 0) throw new Error(`${where}: target matches nothing`);
    return objects.map((o) => (matches(o, target) ? applyJsonPatch(o, body, where) : o));
  }
  if (!isMap(body)) throw new Error(`${where}: a patch must be a mapping or a list`);
  const patchMeta = body['metadata'];
  const byName: Target = {
    ...(typeof body['kind'] === 'string' ? { kind: body['kind'] } : {}),
    ...(isMap(patchMeta) && typeof patchMeta['name'] === 'string'
      ? { name: patchMeta['name'] }
      : {}),
    labels: {},
  };
  const t = target ?? byName;
  if (!target && (byName.kind === undefined || byName.name === undefined)) {
    throw new Error(
      `${where}: a strategic merge patch without target needs kind and metadata.name`,
    );
  }
  const hits = objects.filter((o) => matches(o, t));
  if (hits.length === 0) throw new Error(`${where}: patch matches nothing`);
  // With a target, the patch's own name and kind only identify it, as in kustomize.
  const { metadata: _m, kind: _k, apiVersion: _a, ...rest } = body;
  const fields = target ? rest : body;
  return objects.map((o) =>
    matches(o, t) ? (strategicMerge(o, fields, o.kind, where) as K8sObject) : o,
  );
}

function parseYamlDocument(text: string, where: string): Json {
  const docs = parseAllDocuments(text);
  const doc = docs[0];
  if (docs.length !== 1 || !doc) throw new Error(`${where}: expected one YAML document`);
  const problem = doc.errors[0];
  if (problem) throw new Error(`${where}: ${problem.message}`);
  return doc.toJS() as Json;
}

/** Merge keys of the built-in lists k8s/ patches; any other list in a patch throws. */
function mergeKey(kind: string, field: string): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      return kind === 'Service' ? 'port' : 'containerPort';
    default:
      return undefined;
  }
}

/** Lists that a strategic merge replaces whole (no merge key in the Kubernetes schema). */
const REPLACED_LISTS = new Set(['args', 'command', 'items', 'policyTypes', 'drop', 'add']);

/**
 * Strategic merge of `patch` into `target` (neither is modified): maps merge,
 * `null` deletes, lists with a Kubernetes merge key merge item by item (new
 * items appended), lists without one are replaced. Directives (`$patch`) and
 * lists in patches of custom resources, whose merge semantics depend on a
 * schema kustomize may not have, are refused.
 */
export function strategicMerge(
  target: unknown,
  patch: unknown,
  kind: string,
  where = 'patch',
): unknown {
  return mergeJson(target as Json, patch as Json, kind, where);
}

function mergeJson(target: Json, patch: Json, kind: string, where: string): Json {
  if (!isMap(patch)) return structuredClone(patch);
  const out: JsonMap = isMap(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new Error(`${where}: directive ${key} is not supported`);
    if (value === null) {
      delete out[key];
    } else if (Array.isArray(value)) {
      out[key] = mergeList(out[key], value, kind, key, where);
    } else if (isMap(value)) {
      out[key] = mergeJson(out[key] ?? {}, value, kind, where);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function mergeList(
  existing: Json | undefined,
  patch: Json[],
  kind: string,
  field: string,
  where: string,
): Json {
  if (!BUILT_IN.has(kind)) {
    throw new Error(
      `${where}: list ${field} in a patch of custom resource ${kind} is not supported`,
    );
  }
  const key = mergeKey(kind, field);
  if (key === undefined) {
    if (REPLACED_LISTS.has(field) || !patch.some(isMap)) return structuredClone(patch);
    throw new Error(`${where}: list ${field} has no known merge key`);
  }
  const out = Array.isArray(existing) ? structuredClone(existing) : [];
  for (const item of patch) {
    if (!isMap(item) || item[key] === undefined) {
      throw new Error(`${where}: items of ${field} need ${key}`);
    }
    const i = out.findIndex((e) => isMap(e) && e[key] === item[key]);
    if (i === -1) out.push(structuredClone(item));
    else out[i] = mergeJson(out[i] ?? {}, item, kind, where);
  }
  return out;
}

function decodePointer(path: string, where: string): string[] {
  if (!path.startsWith('/')) throw new Error(`${where}: path ${path} must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 `add`, `replace` and `remove` (the operations k8s/ uses); returns a patched copy. */
export function applyJsonPatch<T>(doc: T, ops: readonly unknown[], where = 'patch'): T {
  const root = structuredClone(doc) as unknown as Json;
  for (const op of ops) {
    if (!isMap(op) || typeof op['op'] !== 'string' || typeof op['path'] !== 'string') {
      throw new Error(`${where}: every operation needs op and path`);
    }
    const segments = decodePointer(op['path'], where);
    const last = segments.pop();
    if (last === undefined) throw new Error(`${where}: the root cannot be patched`);
    let node: Json = root;
    for (const s of segments) {
      const next: Json | undefined = Array.isArray(node)
        ? node[Number(s)]
        : isMap(node)
          ? node[s]
          : undefined;
      if (next === undefined) throw new Error(`${where}: ${op['path']} does not exist`);
      node = next;
    }
    const exists = Array.isArray(node) ? Number(last) < node.length : isMap(node) && last in node;
    switch (op['op']) {
      case 'add':
      case 'replace': {
        if (op['op'] === 'replace' && !exists)
          throw new Error(`${where}: ${op['path']} does not exist`);
        const value = structuredClone(op['value'] ?? null);
        if (Array.isArray(node)) {
          if (op['op'] === 'add') node.splice(last === '-' ? node.length : Number(last), 0, value);
          else node[Number(last)] = value;
        } else if (isMap(node)) {
          node[last] = value;
        } else {
          throw new Error(`${where}: ${op['path']} is inside a scalar`);
        }
        break;
      }
      case 'remove':
        if (!exists) throw new Error(`${where}: ${op['path']} does not exist`);
        if (Array.isArray(node)) node.splice(Number(last), 1);
        else if (isMap(node)) delete node[last];
        break;
      default:
        throw new Error(`${where}: operation ${op['op']} is not supported`);
    }
  }
  return root as unknown as T;
}

/** The containers of a workload's pod template (or of a Pod), where images live. */
export function containersOf(o: K8sObject): JsonMap[] {
  const spec = o['spec'];
  if (!isMap(spec)) return [];
  const template = isMap(spec['template']) ? spec['template'] : undefined;
  const jobTemplate = isMap(spec['jobTemplate']) ? spec['jobTemplate']['spec'] : undefined;
  const podSpec =
    o.kind === 'Pod'
      ? spec
      : template
        ? template['spec']
        : isMap(jobTemplate) && isMap(jobTemplate['template'])
          ? jobTemplate['template']['spec']
          : undefined;
  if (!isMap(podSpec)) return [];
  return [podSpec['initContainers'], podSpec['containers']].flatMap((list) =>
    Array.isArray(list) ? list.filter(isMap) : [],
  );
}

/** Splits an image reference into name, tag and digest. */
export function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const [ref = '', digest] = image.split('@', 2);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const hasTag = colon > slash;
  return {
    name: hasTag ? ref.slice(0, colon) : ref,
    ...(hasTag ? { tag: ref.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

function applyImage(objects: readonly K8sObject[], entry: Json, file: string): void {
  if (!isMap(entry) || typeof entry['name'] !== 'string') {
    throw new Error(`${file}: images entries need a name`);
  }
  for (const key of Object.keys(entry)) {
    if (!['name', 'newName', 'newTag'].includes(key))
      throw new Error(`${file}: images: unsupported ${key}`);
  }
  const { name, newName, newTag } = entry;
  for (const o of objects) {
    for (const c of containersOf(o)) {
      if (typeof c['image'] !== 'string') continue;
      const ref = splitImage(c['image']);
      if (ref.name !== name) continue;
      const tag = typeof newTag === 'string' ? newTag : ref.tag;
      c['image'] =
        (typeof newName === 'string' ? newName : ref.name) +
        (tag !== undefined ? `:${tag}` : '') +
        (ref.digest !== undefined && newTag === undefined ? `@${ref.digest}` : '');
    }
  }
}
