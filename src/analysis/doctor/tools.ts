/**
 * What doctor knows about tools, as data: dependency installers (their manifests, the command that fetches
 * dependencies from the manifests alone, their cache directories), OS package managers (the command that
 * refreshes the package lists, the install command, the clean-up), and which Dockerfile features each builder
 * profile accepts. The checks read these tables; adding a tool is adding a row.
 */

/** A directory a `RUN --mount=type=cache` keeps between builds (as root, in the tool's official image). */
export interface CacheDir {
  target: string;
  /** `locked` for tools that cannot share their cache between concurrent builds (apt). */
  sharing?: 'locked';
}

export interface PackageTool {
  name: string;
  /** The command that installs or fetches dependencies (a `file` group names a manifest given on the command line). */
  install: RegExp;
  /** Manifest and lock files, relative to the copied directory; `*` matches within one name (`*.csproj`). */
  manifests: string[];
  /** Manifests named on the command line (`pip install -r requirements-dev.txt`): a global regex, group 1 = the file. */
  manifestArgs?: RegExp;
  /**
   * For a step that needs the sources too (`go build`, `cargo build`, `mvn package`): the command that fetches
   * the dependencies from the manifests alone. The copy-before-install fix runs it before the broad COPY and
   * keeps the step after it; no finding when the stage already runs it before the step.
   */
  prefetch?: { command: string; test: RegExp };
  /** Where the tool keeps downloads, for `RUN --mount=type=cache`. */
  cache: CacheDir[];
  /** A flag (or clean-up) that turns the tool's cache off, pointless under a cache mount: the fix drops it. */
  noCacheFlag?: RegExp;
  /** A line to write before the RUN so that the tool keeps its downloads (apt's docker-clean hook deletes them). */
  keepCache?: string;
}

const REQUIREMENT_ARGS = /\s(?:-r|--requirements?|-c|--constraint)(?:\s+|=)([^\s;&|]+)/g;
const PIP_CACHE: CacheDir[] = [{ target: '/root/.cache/pip' }];
const GO_CACHE: CacheDir[] = [{ target: '/go/pkg/mod' }, { target: '/root/.cache/go-build' }];
const CARGO_CACHE: CacheDir[] = [{ target: '/usr/local/cargo/registry' }, { target: '/usr/local/cargo/git' }];
const GRADLE_FILES = ['build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts', 'gradle.properties'];
const DOTNET_FILES = ['*.csproj', '*.fsproj', '*.vbproj', '*.sln', 'NuGet.Config', 'nuget.config', 'Directory.Packages.props', 'Directory.Build.props'];

/** Dependency installers, first match wins (so the more specific rows come first). */
export const PACKAGE_TOOLS: readonly PackageTool[] = [
  { name: 'npm', install: /\bnpm\s+(ci|install|i)\b/, manifests: ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'], cache: [{ target: '/root/.npm' }] },
  {
    name: 'yarn',
    install: /\byarn(\s+install)?\s*($|&&|;|\||\s-)/,
    manifests: ['package.json', 'yarn.lock', '.yarnrc.yml'],
    cache: [{ target: '/usr/local/share/.cache/yarn' }],
  },
  {
    name: 'pnpm',
    install: /\bpnpm\s+(install|i)\b/,
    manifests: ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'],
    cache: [{ target: '/root/.local/share/pnpm/store' }],
  },
  { name: 'uv', install: /\buv\s+pip\s+install\b[^;&|]*\s(-r|--requirements?)[\s=]/, manifests: [], manifestArgs: REQUIREMENT_ARGS, cache: [{ target: '/root/.cache/uv' }], noCacheFlag: /\s--no-cache\b/ },
  { name: 'uv', install: /\buv\s+sync\b/, manifests: ['pyproject.toml', 'uv.lock'], cache: [{ target: '/root/.cache/uv' }], noCacheFlag: /\s--no-cache\b/ },
  { name: 'pip', install: /\bpip3?\s+install\b[^;&|]*\s(-r|--requirement)[\s=]/, manifests: [], manifestArgs: REQUIREMENT_ARGS, cache: PIP_CACHE, noCacheFlag: /\s--no-cache-dir\b/ },
  {
    name: 'pip',
    install: /\bpip3?\s+install\b.*\s(-e\s+)?\.(\s|$)/,
    manifests: ['pyproject.toml', 'setup.py', 'setup.cfg'],
    cache: PIP_CACHE,
    noCacheFlag: /\s--no-cache-dir\b/,
  },
  { name: 'pip', install: /\bpip3?\s+install\b/, manifests: [], cache: PIP_CACHE, noCacheFlag: /\s--no-cache-dir\b/ },
  { name: 'poetry', install: /\bpoetry\s+install\b/, manifests: ['pyproject.toml', 'poetry.lock'], cache: [{ target: '/root/.cache/pypoetry' }] },
  { name: 'pipenv', install: /\bpipenv\s+(install|sync)\b/, manifests: ['Pipfile', 'Pipfile.lock'], cache: PIP_CACHE },
  { name: 'go', install: /\bgo\s+mod\s+download\b/, manifests: ['go.mod', 'go.sum'], cache: GO_CACHE },
  {
    name: 'go',
    install: /\bgo\s+(build|install|test|vet)\b/,
    manifests: ['go.mod', 'go.sum'],
    prefetch: { command: 'go mod download', test: /\bgo\s+mod\s+download\b/ },
    cache: GO_CACHE,
  },
  { name: 'cargo', install: /\bcargo\s+fetch\b/, manifests: ['Cargo.toml', 'Cargo.lock'], cache: CARGO_CACHE },
  {
    name: 'cargo',
    install: /\bcargo\s+(build|install|test)\b/,
    manifests: ['Cargo.toml', 'Cargo.lock'],
    prefetch: { command: 'cargo fetch', test: /\bcargo\s+fetch\b/ },
    cache: CARGO_CACHE,
  },
  { name: 'maven', install: /\bmvnw?\s+(-\S+\s+)*dependency:(go-offline|resolve)\b/, manifests: ['pom.xml'], cache: [{ target: '/root/.m2' }] },
  {
    name: 'maven',
    install: /(^|[\s;&|/])mvnw?\s+(-\S+\s+)*(package|install|verify|compile|test)\b/,
    manifests: ['pom.xml'],
    prefetch: { command: 'mvn dependency:go-offline', test: /\bdependency:(go-offline|resolve)\b/ },
    cache: [{ target: '/root/.m2' }],
  },
  {
    name: 'gradle',
    install: /(^|[\s;&|/])(gradle|gradlew)\s+(-\S+\s+)*(build|assemble|bootJar|jar|installDist|shadowJar)\b/,
    manifests: GRADLE_FILES,
    prefetch: { command: 'gradle dependencies', test: /\bgradlew?\s+(-\S+\s+)*dependencies\b/ },
    cache: [{ target: '/root/.gradle' }],
  },
  { name: 'bundler', install: /\bbundle\s+install\b/, manifests: ['Gemfile', 'Gemfile.lock'], cache: [{ target: '/root/.gem' }] },
  { name: 'composer', install: /\bcomposer\s+install\b/, manifests: ['composer.json', 'composer.lock'], cache: [{ target: '/root/.cache/composer' }] },
  { name: 'dotnet', install: /\bdotnet\s+restore\b/, manifests: DOTNET_FILES, cache: [{ target: '/root/.nuget/packages' }] },
  {
    name: 'dotnet',
    install: /\bdotnet\s+(build|publish|test)\b/,
    manifests: DOTNET_FILES,
    prefetch: { command: 'dotnet restore', test: /\bdotnet\s+restore\b/ },
    cache: [{ target: '/root/.nuget/packages' }],
  },
];

/** An OS package manager: the refresh of its package lists, its install command, how to pin and to clean up. */
export interface OsPackageManager {
  name: string;
  /** Refreshes the package lists (what goes stale in a cached layer). */
  update: RegExp;
  /** Installs packages; the words after it (up to `&&`, `;`, `|`) are the packages and flags. */
  install: RegExp;
  /** The clean-up that keeps the lists out of the layer. */
  cleanup: string;
  /** A package word that pins a version (`curl=8.5.0-2`), or undefined when pins cannot be told from names. */
  pinned?: RegExp;
  /** How to find the versions to pin (shown in the fix). */
  versions?: string;
  /** Cache mounts for the install, and the line that makes the tool keep its downloads. */
  cache: CacheDir[];
  keepCache?: string;
  noCacheFlag?: RegExp;
}

export const OS_PACKAGE_MANAGERS: readonly OsPackageManager[] = [
  {
    name: 'apt',
    update: /\bapt(-get)?\s+(-\S+\s+)*update\b/,
    install: /\bapt(-get)?\s+(-\S+\s+)*install\b/,
    cleanup: 'rm -rf /var/lib/apt/lists/*',
    pinned: /^[^=\s]+=\S+$/,
    versions: 'apt-cache policy',
    cache: [
      { target: '/var/cache/apt', sharing: 'locked' },
      { target: '/var/lib/apt', sharing: 'locked' },
    ],
    keepCache: 'RUN rm -f /etc/apt/apt.conf.d/docker-clean',
    // Under the cache mount the lists live in the mount, not the layer: deleting them only empties the cache.
    noCacheFlag: /\s*&&\s*rm\s+-rf\s+\/var\/lib\/apt\/lists\/\*/,
  },
  {
    name: 'apk',
    update: /\bapk\s+(-\S+\s+)*update\b/,
    install: /\bapk\s+(-\S+\s+)*add\b/,
    cleanup: 'rm -rf /var/cache/apk/*',
    pinned: /^[^=~\s]+[=~]\S+$/,
    versions: 'apk policy',
    cache: [{ target: '/var/cache/apk' }],
    noCacheFlag: /\s--no-cache\b/,
  },
  { name: 'dnf', update: /\bdnf\s+(-\S+\s+)*makecache\b/, install: /\bdnf\s+(-\S+\s+)*install\b/, cleanup: 'dnf clean all', cache: [{ target: '/var/cache/dnf' }] },
  { name: 'yum', update: /\byum\s+(-\S+\s+)*makecache\b/, install: /\byum\s+(-\S+\s+)*install\b/, cleanup: 'yum clean all', cache: [{ target: '/var/cache/yum' }] },
  {
    name: 'zypper',
    update: /\bzypper\s+(-\S+\s+)*(refresh|ref)\b/,
    install: /\bzypper\s+(-\S+\s+)*(install|in)\b/,
    cleanup: 'zypper clean -a',
    cache: [{ target: '/var/cache/zypp' }],
  },
];

/** Dockerfile features a rule may depend on (what a profile's data says of them: see doctor.ts featuresOf). */
export interface DockerfileFeatures {
  /** `RUN --mount` (cache, bind, secret mounts). */
  runMount: boolean;
  /** `ADD --checksum=sha256:…` for an HTTP(S) source. */
  addChecksum: boolean;
}


/**
 * Commands whose output changes from build to build while the RUN text stays the same: the builder keeps the
 * first build's output (a stale cache hit). `fix` is what to write instead.
 */
export interface VolatileCommand {
  test: RegExp;
  what: string;
  fix: string;
}

export const VOLATILE_COMMANDS: readonly VolatileCommand[] = [
  {
    test: /\$\(\s*date\b|`\s*date\b/,
    what: 'the date',
    fix: 'ARG BUILD_DATE\nRUN … "$BUILD_DATE" …   # and build with --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"',
  },
  {
    test: /\bgit\s+(rev-parse|describe|log|show)\b/,
    what: 'the current commit',
    fix: 'ARG GIT_COMMIT\nRUN … "$GIT_COMMIT" …   # and build with --build-arg GIT_COMMIT="$(git rev-parse HEAD)"',
  },
  {
    test: /\b(curl|wget)\b[^;&|]*\/(latest|nightly|master|main|HEAD)(\/|\b)/i,
    what: 'whatever is "latest" on the server',
    fix: 'ARG TOOL_VERSION=<version>\nRUN curl -fsSL …/download/v${TOOL_VERSION}/… -o … && echo "<sha256>  …" | sha256sum -c -',
  },
  {
    test: /\b(apt(-get)?\s+(-\S+\s+)*(upgrade|dist-upgrade)|apk\s+(-\S+\s+)*upgrade|(dnf|yum)\s+(-\S+\s+)*(upgrade|update)\b)/,
    what: 'the packages upstream has published since the first build',
    fix: 'pin the base image by digest and bump it to take upgrades (see base-image-moving-tag), or ARG UPGRADED_AT=<date> above this RUN and change it when you want the upgrade',
  },
];
