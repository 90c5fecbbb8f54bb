import { describe, expect, it } from 'vitest';
import { type CopyInstruction, type DockerfileModel, isCopy } from '../src/dockerfile/model.js';
import { parseDockerfile } from '../src/dockerfile/parser.js';
import { matchPathPattern, patternError, sourceCovers } from '../src/dockerfile/path-patterns.js';
import { DockerfileError } from '../src/core/errors.js';

const parse = (text: string, buildArgs?: Record<string, string>): DockerfileModel =>
  parseDockerfile(text, 'Dockerfile', buildArgs ? { buildArgs } : {});

const copies = (m: DockerfileModel): CopyInstruction[] => m.instructions.filter(isCopy);

/** The DockerfileError a text raises (fails the test if it parses). */
function parseError(text: string, buildArgs?: Record<string, string>): DockerfileError {
  try {
    parse(text, buildArgs);
  } catch (e) {
    expect(e).toBeInstanceOf(DockerfileError);
    return e as DockerfileError;
  }
  throw new Error('expected a DockerfileError');
}

describe('stages', () => {
  const text = [
    'ARG GO=1.22',
    'FROM golang:${GO} AS Build',
    'WORKDIR /src',
    'COPY go.mod go.sum ./',
    'RUN go mod download',
    'COPY . .',
    'RUN go build -o /out/app ./cmd/app',
    '',
    'FROM --platform=$BUILDPLATFORM alpine:3.19 AS assets',
    'COPY web/ /web/',
    '',
    'FROM build AS test',
    'RUN go test ./...',
    '',
    'FROM scratch',
    'COPY --from=BUILD /out/app /app',
    'COPY --from=1 /web /web',
    'COPY --from=nginx:latest /etc/nginx/nginx.conf /etc/',
    '',
  ].join('\n');
  const m = parse(text);

  it('splits stages, lower-cases names and substitutes global ARGs in FROM', () => {
    expect(m.globalArgs.map((i) => i.args)).toEqual([['GO=1.22']]);
    expect(m.stages.map((s) => [s.index, s.name, s.base, s.line])).toEqual([
      [0, 'build', 'golang:1.22', 2],
      [1, 'assets', 'alpine:3.19', 9],
      [2, 'test', 'build', 12],
      [3, undefined, 'scratch', 15],
    ]);
    expect(m.stages[0]!.instructions.map((i) => i.keyword)).toEqual(['WORKDIR', 'COPY', 'RUN', 'COPY', 'RUN']);
    expect(m.instructions.map((i) => i.stage)).toEqual([-1, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 3]);
  });

  it('links a FROM naming an earlier stage, and COPY --from by name (any case), index or image', () => {
    expect(m.stages[2]!.baseStage).toBe(0);
    expect(m.stages[1]!.baseStage).toBeUndefined();
    const [, , , fromName, fromIndex, fromImage] = copies(m);
    expect([fromName!.from, fromName!.fromStage, fromName!.sources[0]!.kind]).toEqual(['BUILD', 0, 'stage']);
    expect([fromIndex!.from, fromIndex!.fromStage, fromIndex!.sources[0]!.kind]).toEqual(['1', 1, 'stage']);
    expect([fromImage!.from, fromImage!.fromStage, fromImage!.sources[0]!.kind]).toEqual(['nginx:latest', undefined, 'image']);
    expect(m.stages.map((s) => s.dependsOn)).toEqual([[], [], [0], [0, 1]]);
  });

  it('keeps the per-build platform ARG unresolved in FROM --platform', () => {
    const from = m.stages[1]!.from;
    expect(from.flags).toEqual({ platform: ['$BUILDPLATFORM'] });
    expect(from.unresolved).toEqual(['BUILDPLATFORM']);
    expect(parse(text, { BUILDPLATFORM: 'linux/amd64' }).stages[1]!.platform).toBe('linux/amd64');
  });

  it('resolves COPY --from naming a stage defined later, and rejects self and cyclic references', () => {
    const later = parse('FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\nCOPY y /y\n');
    expect(copies(later)[0]!.fromStage).toBe(1);
    expect(parseError('FROM scratch AS a\nCOPY --from=a /x /x\n').message).toBe(
      'Dockerfile:2: circular dependency detected on stage: a',
    );
    expect(parseError('FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\nCOPY --from=a /y /y\n').message).toMatch(
      /circular dependency/,
    );
    expect(parseError('FROM scratch\nCOPY --from=3 /x /x\n').message).toBe('Dockerfile:2: invalid stage index 3');
  });

  it('links a FROM only to an earlier stage, by its exact lower-case name (observed on Docker 20.10)', () => {
    const m2 = parse('FROM later AS first\nFROM scratch AS later\nFROM FIRST\nFROM --platform=$BUILDPLATFORM first\n');
    expect(m2.stages.map((s) => s.baseStage)).toEqual([undefined, undefined, undefined, 0]);
  });

  it('does not guess the stage behind an unknown --from value', () => {
    const c = copies(parse('FROM scratch AS a\nFROM node:20\nCOPY --from=$SRC_STAGE /x /x\n'))[0]!;
    expect([c.from, c.fromStage, c.unresolved]).toEqual(['$SRC_STAGE', undefined, ['SRC_STAGE']]);
    expect(c.sources[0]!.unresolved).toEqual(['SRC_STAGE']);
  });

  it('accepts duplicate stage names; a reference takes the last one (observed on Docker 20.10)', () => {
    const m2 = parse('FROM scratch AS x\nFROM scratch AS X\nFROM scratch\nCOPY --from=x /a /a\n');
    expect(m2.stages.map((s) => s.name)).toEqual(['x', 'x', undefined]);
    expect(copies(m2)[0]!.fromStage).toBe(1);
  });
});

describe('lines, directives, continuations', () => {
  it('honours escape=` (continuation with backtick, backslashes literal)', () => {
    const m = parse(['# escape=`', 'FROM scratch', 'COPY C:\\src\\app `', '     C:\\src\\lib `', '     C:\\dest\\', ''].join('\r\n'));
    expect(m.escape).toBe('`');
    const c = copies(m)[0]!;
    expect(c.args).toEqual(['C:\\src\\app', 'C:\\src\\lib', 'C:\\dest\\']);
    expect([c.line, c.endLine]).toEqual([3, 5]);
  });

  it('reads directives only at the very top, case-insensitively, each once', () => {
    const m = parse('# Syntax = docker/dockerfile:1.7\n#ESCAPE=`\nFROM scratch\n');
    expect([m.syntax, m.escape]).toEqual(['docker/dockerfile:1.7', '`']);
    // After an instruction, or after an ordinary comment or unknown directive, it is a comment.
    expect(parse('FROM scratch\n# escape=`\n').escape).toBe('\\');
    expect(parse('# hello\n# escape=`\nFROM scratch\n').escape).toBe('\\');
    expect(parse('# foo=bar\n# escape=`\nFROM scratch\n').escape).toBe('\\');
    expect(parse('\n# escape=`\nFROM scratch\n').escape).toBe('\\');
    expect(parseError('# escape=`\n# escape=\\\nFROM scratch\n').message).toBe(
      'Dockerfile:2: only one escape parser directive can be used',
    );
    expect(parseError('# escape=x\nFROM scratch\n').message).toMatch(/^Dockerfile:1: invalid escape token 'x'/);
  });

  it('drops comment and empty lines inside continuations, as the builder does', () => {
    const text = [
      'FROM scratch',
      'RUN apt-get update && \\',
      '    # install the compiler',
      '',
      '    apt-get install -y gcc   ',
      '  # a comment line',
      'copy a \\',
      '  b /dst/',
    ].join('\n');
    const m = parse(text);
    const [run, copy] = m.stages[0]!.instructions;
    expect(run!.args).toEqual(['apt-get update &&     apt-get install -y gcc']);
    expect([run!.line, run!.endLine]).toEqual([2, 5]);
    expect(run!.text).toBe(text.split('\n').slice(1, 5).join('\n'));
    expect(copy!.keyword).toBe('COPY');
    expect(copy!.args).toEqual(['a', 'b', '/dst/']);
    expect([copy!.line, copy!.endLine]).toEqual([7, 8]);
  });

  it('does not continue a line ending in an escaped escape (observed on Docker 20.10 BuildKit)', () => {
    const m = parse('FROM scratch\nCOPY a.txt /x\\\\\nCOPY b.txt /y/\n');
    expect(copies(m).map((c) => c.dest)).toEqual(['/x\\', '/y/']);
  });

  it('strips a UTF-8 BOM and accepts a final line without newline', () => {
    const m = parse('\ufeff# escape=`\nfrom scratch\nCOPY a b');
    expect(m.escape).toBe('`');
    expect(copies(m)[0]!.args).toEqual(['a', 'b']);
  });
});

describe('instruction forms', () => {
  it('reads JSON and shell forms', () => {
    const m = parse(
      [
        'FROM scratch',
        'COPY ["my file.txt", "other file", "/dst dir/"]',
        'RUN ["/bin/sh", "-c", "echo hi"]',
        'RUN echo  hi',
        'CMD [ "app" ]',
        'ENTRYPOINT ["not json"',
      ].join('\n'),
    );
    const [copy, execRun, shellRun, cmd, entry] = m.stages[0]!.instructions;
    expect((copy as CopyInstruction).sources.map((s) => s.path)).toEqual(['my file.txt', 'other file']);
    expect((copy as CopyInstruction).dest).toBe('/dst dir/');
    expect([execRun!.json, execRun!.args]).toEqual([true, ['/bin/sh', '-c', 'echo hi']]);
    expect([shellRun!.json, shellRun!.args]).toEqual([false, ['echo  hi']]);
    expect(cmd!.args).toEqual(['app']);
    expect([entry!.json, entry!.args]).toEqual([false, ['["not json"']]);
  });

  it('reads ENV and LABEL pairs, legacy ENV form, quotes and escapes', () => {
    const m = parse(
      ['FROM scratch', 'ENV A=1 B="two words" C=three\\ words', 'ENV LEGACY some value here', 'LABEL "com.x.y"="v" n=$A'].join('\n'),
    );
    const [env, legacy, label] = m.stages[0]!.instructions;
    expect(env!.pairs).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: 'two words' },
      { key: 'C', value: 'three words' },
    ]);
    expect(legacy!.args).toEqual(['LEGACY=some value here']);
    expect(label!.args).toEqual(['com.x.y=v', 'n=1']);
  });

  it('reads COPY/ADD flags', () => {
    const m = parse(
      [
        'FROM scratch',
        'COPY --chmod=755 --chown=app:app --link --exclude=*.md --exclude=tmp --parents src/ lib/ /app/',
        'ADD --keep-git-dir=true --checksum=sha256:abc --link=false https://example.com/a.tgz /x',
      ].join('\n'),
    );
    const [c, a] = copies(m);
    expect(c!.flags).toEqual({
      chmod: ['755'], chown: ['app:app'], link: ['true'], exclude: ['*.md', 'tmp'], parents: ['true'],
    });
    expect([c!.chmod, c!.chown, c!.link, c!.parents, c!.exclude]).toEqual(['755', 'app:app', true, true, ['*.md', 'tmp']]);
    expect(c!.sources.map((s) => s.path)).toEqual(['src', 'lib']);
    expect(a!.flags).toEqual({ 'keep-git-dir': ['true'], checksum: ['sha256:abc'], link: ['false'] });
    expect(a!.link).toBe(false);
  });

  it('takes words after the first non-flag word as arguments', () => {
    const c = copies(parse('FROM scratch\nCOPY a --chown=1 /dst\n'))[0]!;
    expect(c.flags).toEqual({});
    expect(c.sources.map((s) => s.raw)).toEqual(['a', '--chown=1']);
  });

  it('records RUN --mount from= stage dependencies', () => {
    const m = parse('FROM scratch AS deps\nFROM scratch\nRUN --mount=type=bind,from=deps,target=/d make\n');
    expect(m.stages[1]!.dependsOn).toEqual([0]);
    expect(m.stages[1]!.instructions[0]!.flags).toEqual({ mount: ['type=bind,from=deps,target=/d'] });
  });
});

describe('heredocs', () => {
  it('reads inline files for COPY and scripts for RUN', () => {
    const text = [
      'FROM scratch',
      'ENV NAME=world',
      'COPY <<EOF /hello.txt',
      'hello $NAME',
      'EOF',
      'COPY <<-"END" <<OTHER /etc/',
      '\tliteral $NAME',
      '\tEND',
      'x=${NAME}',
      'OTHER',
      'RUN <<EOF',
      'echo $NAME',
      'EOF',
      'COPY a.txt /a',
    ].join('\n');
    const m = parse(text);
    const [hello, two, last] = copies(m);
    expect(hello!.sources).toEqual([{ raw: '<<EOF', kind: 'heredoc', path: 'EOF', wildcard: false }]);
    expect(hello!.heredocs).toEqual([{ name: 'EOF', content: 'hello world\n' }]);
    expect([hello!.line, hello!.endLine]).toEqual([3, 5]);
    expect(two!.heredocs).toEqual([
      { name: 'END', content: 'literal $NAME\n' },
      { name: 'OTHER', content: 'x=world\n' },
    ]);
    const run = m.stages[0]!.instructions[3]!;
    expect(run.keyword).toBe('RUN');
    expect(run.heredocs).toEqual([{ name: 'EOF', content: 'echo $NAME\n' }]);
    expect([run.line, run.endLine]).toEqual([11, 13]);
    expect([last!.line, last!.sources[0]!.kind]).toEqual([14, 'context']);
  });

  it('reads heredocs of an ONBUILD trigger and treats any quoting of the terminator as literal', () => {
    const m = parse('FROM scratch\nONBUILD RUN <<EOF\necho\nEOF\nARG X=1\nCOPY <<E"O"F /f\n$X\nEOF\nCOPY <<\\EOF /g\n$X\nEOF\n', {});
    const [onbuild, , quoted, escaped] = m.stages[0]!.instructions;
    expect([onbuild!.keyword, onbuild!.endLine, onbuild!.heredocs]).toEqual(['ONBUILD', 4, [{ name: 'EOF', content: 'echo\n' }]]);
    expect(quoted!.heredocs).toEqual([{ name: 'EOF', content: '$X\n' }]);
    // A backslash does not count as quoting for the builder: the body is expanded.
    expect(escaped!.heredocs).toEqual([{ name: 'EOF', content: '1\n' }]);
  });

  it('puts heredoc bodies in the key', () => {
    const a = parse('FROM scratch\nCOPY <<EOF /f\none\nEOF\n');
    const b = parse('FROM scratch\nCOPY <<EOF /f\ntwo\nEOF\n');
    expect(copies(a)[0]!.key).not.toBe(copies(b)[0]!.key);
  });

  it('rejects an unterminated heredoc and a heredoc destination', () => {
    expect(parseError('FROM scratch\nRUN <<EOF\necho\n').message).toBe('Dockerfile:2: unterminated heredoc');
    expect(parseError('FROM scratch\nCOPY a <<EOF\nx\nEOF\n').message).toMatch(/cannot accept a heredoc as a destination/);
  });
});

describe('variable substitution', () => {
  it('applies defaults and alternatives, and scopes ARGs per stage', () => {
    const text = [
      'ARG VERSION=1.0',
      'ARG DIR',
      'FROM alpine:${VERSION} AS a',
      'COPY ${VERSION:-none} /v/',
      'ARG VERSION',
      'ARG SUB=sub',
      'COPY ${VERSION}/${SUB:+present}${MISSING_ARG:+x} /v/',
      'FROM scratch AS b',
      'ARG SUB',
      'COPY ${SUB:-fallback}/file ${UNDECLARED:-d}/f /dst/',
    ].join('\n');
    const [beforeRedeclare, afterRedeclare, inB] = copies(parse(text, {}));
    // A global ARG is not visible in a stage until redeclared there.
    expect(beforeRedeclare!.unresolved).toEqual(['VERSION']);
    expect(beforeRedeclare!.sources[0]!.raw).toBe('${VERSION:-none}');
    // Stage a is rooted in an image whose ENV is unknown: MISSING_ARG might be set there.
    expect(afterRedeclare!.sources[0]!.path).toBe('1.0/present${MISSING_ARG:+x}');
    expect(afterRedeclare!.unresolved).toEqual(['MISSING_ARG']);
    // Stage b is rooted in scratch: every variable it can see is declared in the file.
    expect(inB!.sources.map((s) => s.path)).toEqual(['fallback/file', 'd/f']);
    expect(inB!.unresolved).toEqual([]);
  });

  it('uses build-arg overrides, and leaves an ARG without value unknown when none are given', () => {
    const text = 'FROM scratch\nARG SRC\nARG MODE=dev\nCOPY $SRC/$MODE /dst\n';
    const noArgs = copies(parse(text))[0]!;
    expect(noArgs.unresolved).toEqual(['SRC']);
    expect(noArgs.sources[0]).toEqual({ raw: '$SRC/dev', kind: 'context', path: '$SRC/dev', wildcard: false, unresolved: ['SRC'] });
    const withArgs = copies(parse(text, { SRC: 'app', MODE: 'prod' }))[0]!;
    expect(withArgs.sources[0]!.path).toBe('app/prod');
    expect(withArgs.unresolved).toEqual([]);
    const emptySet = copies(parse(text, {}))[0]!;
    expect(emptySet.sources[0]!.path).toBe('dev');
  });

  it('never guesses a base image ENV, but knows ENVs inherited from a parent stage', () => {
    const text = [
      'FROM node:20 AS base',
      'ENV APP=/srv/app',
      'COPY $HOME/x $APP/',
      'FROM base',
      'COPY ${APP}/y ${APP}/',
    ].join('\n');
    const [inBase, inChild] = copies(parse(text));
    expect(inBase!.unresolved).toEqual(['HOME']);
    expect(inBase!.dest).toBe('/srv/app/');
    expect(inChild!.sources[0]!.path).toBe('srv/app/y');
  });

  it('lets ENV override an ARG of the same name and lists the ARGs in scope', () => {
    const m = parse('FROM scratch\nARG V=arg\nENV V=env\nCOPY $V /x\nRUN make\n', {});
    const [, , copy, run] = m.stages[0]!.instructions;
    expect((copy as CopyInstruction).sources[0]!.path).toBe('env');
    expect(run!.argsInScope).toEqual(['V']);
  });

  it('evaluates pattern removal and replacement like the builder', () => {
    const text = [
      'FROM scratch',
      'ARG P=src/app/main.tar.gz',
      'COPY ${P#*/} ${P##*/} ${P%.*} ${P%%.*} ${P/a/A} ${P//a/A} /dst/',
    ].join('\n');
    expect(copies(parse(text, {}))[0]!.sources.map((s) => s.raw)).toEqual([
      'app/main.tar.gz', 'main.tar.gz', 'src/app/main.tar', 'src/app/main', 'src/App/main.tar.gz', 'src/App/mAin.tAr.gz',
    ]);
  });

  it('rejects malformed substitutions', () => {
    expect(parseError('FROM scratch\nCOPY ${} /x\n').message).toBe('Dockerfile:2: syntax error: bad substitution');
    expect(parseError('FROM scratch\nCOPY ${A:x} /x\n').message).toBe('Dockerfile:2: unsupported modifier (:x) in substitution');
    expect(parseError('FROM scratch\nCOPY ${A.b} /x\n').message).toBe('Dockerfile:2: unsupported modifier (.) in substitution');
    expect(parseError('FROM scratch\nCOPY ${A /x\n').message).toBe("Dockerfile:2: syntax error: missing '}'");
  });

  it('lists the values a RUN sees, ENV over ARG, unknown as null', () => {
    const m = parse('FROM node:20\nARG MODE=dev\nARG TOKEN\nENV NODE_ENV=$MODE HOME2=$HOME\nRUN npm ci\n');
    const run = m.stages[0]!.instructions[3]!;
    expect(run.vars).toEqual({ MODE: 'dev', TOKEN: null, NODE_ENV: 'dev', HOME2: null });
    expect(run.argsInScope).toEqual(['MODE', 'TOKEN']);
    const knownUnset = parse('FROM node:20\nARG TOKEN\nRUN x\n', {}).stages[0]!.instructions[1]!;
    expect(knownUnset.vars).toEqual({});
  });

  it('respects single quotes and escapes', () => {
    const c = copies(parse("FROM scratch\nARG A=1\nCOPY '$A' \\$A \"$A\" /x\n", {}))[0]!;
    expect(c.sources.map((s) => s.raw)).toEqual(['$A', '$A', '1']);
  });

  it('rejects a blank base name and a failed ${V:?}', () => {
    // Blank only when the build args are known; otherwise B is merely unknown.
    expect(parseError('ARG B\nFROM $B\n', {}).message).toBe('Dockerfile:2: base name ($B) should not be blank');
    expect(parse('ARG B\nFROM $B\n').stages[0]!.from.unresolved).toEqual(['B']);
    expect(parseError('FROM scratch\nCOPY ${NOPE:?unset} /x\n').message).toBe('Dockerfile:2: NOPE: unset');
    // Words are split before substitution, as the builder does: the brace is left open.
    expect(parseError('FROM scratch\nCOPY ${NOPE:?not set} /x\n').message).toBe("Dockerfile:2: syntax error: missing '}'");
  });
});

describe('sources', () => {
  it('classifies remote ADD sources and cleans context paths', () => {
    const c = copies(
      parse(
        [
          'FROM scratch',
          'ADD https://example.com/file.tar.gz git@github.com:moby/buildkit.git https://github.com/moby/buildkit.git#v0.12 https://example.com/page#top ./a/../b/ /c/./d/ ../../e /dst/',
        ].join('\n'),
      ),
    )[0]!;
    expect(c.sources.map((s) => [s.kind, s.remote, s.path])).toEqual([
      ['remote', 'http', ''],
      ['remote', 'git', ''],
      ['remote', 'git', ''],
      ['remote', 'http', ''],
      ['context', undefined, 'b'],
      ['context', undefined, 'c/d'],
      ['context', undefined, 'e'],
    ]);
  });

  it('rejects a URL as a COPY source', () => {
    expect(parseError('FROM scratch\nCOPY https://example.com/x /x\n').message).toMatch(/source can't be a URL for COPY/);
  });

  it('marks wildcard sources and rejects malformed patterns', () => {
    const c = copies(parse('FROM scratch\nCOPY src/*.txt a?c [ab]x plain /dst/\n'))[0]!;
    expect(c.sources.map((s) => s.wildcard)).toEqual([true, true, true, false]);
    expect(parseError('FROM scratch\nCOPY src/[a /dst/\n').message).toMatch(/invalid source pattern "src\/\[a"/);
  });
});

describe('errors the builder raises', () => {
  it.each([
    ['FROM scratch\nfoo bar\n', 'Dockerfile:2: unknown instruction: FOO'],
    ['RUN echo\n', 'Dockerfile:1: no build stage in current context'],
    ['ARG A=1\n', 'Dockerfile: dockerfile contains no stages to build (FROM missing)'],
    ['# just a comment\n\n', 'Dockerfile:2: file with no instructions'],
    ['FROM a b\n', 'Dockerfile:1: FROM requires either one or three arguments'],
    ['FROM a AS 1x\n', 'Dockerfile:1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols'],
    ['FROM scratch\nCOPY onlyone\n', 'Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined.'],
    ['FROM scratch\nCOPY --chmod a /b\n', 'Dockerfile:2: missing a value on flag: chmod'],
    ['FROM scratch\nCOPY --nope=1 a /b\n', 'Dockerfile:2: unknown flag: nope'],
    ['FROM scratch\nCOPY --from=a --from=b a /b\n', 'Dockerfile:2: duplicate flag specified: from'],
    ['FROM scratch\nCOPY --link=maybe a /b\n', 'Dockerfile:2: expecting boolean value for flag link, not: maybe'],
    ['FROM scratch\nENV --x=1 A=1\n', 'Dockerfile:2: unknown flag: x'],
    ['FROM scratch\nENV A=1 B\n', 'Dockerfile:2: Syntax error - can\'t find = in "B". Must be of the form: name=value'],
    ['FROM scratch\nCOPY "a /b\n', 'Dockerfile:2: unexpected end of statement while looking for matching double-quote'],
    ['FROM scratch\nSHELL /bin/bash -c\n', 'Dockerfile:2: SHELL requires the arguments to be in JSON form'],
    ['FROM scratch\nRUN ["a", 1]\n', 'Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only'],
  ])('%j → %s', (text, message) => {
    const e = parseError(text);
    expect(e.message).toBe(message);
    expect(e.code).toBe('EDOCKERFILE');
  });

  it('is lenient where the builder is', () => {
    // Empty continuation lines, trailing spaces after the escape, flags on STOPSIGNAL, MAINTAINER.
    const m = parse('FROM scratch\nMAINTAINER someone <a@b>\nCOPY a \\  \n\n b\nSTOPSIGNAL --x SIGTERM\n');
    expect(copies(m)[0]!.args).toEqual(['a', 'b']);
    expect(m.stages[0]!.instructions.map((i) => i.keyword)).toEqual(['MAINTAINER', 'COPY', 'STOPSIGNAL']);
  });
});

describe('instruction key', () => {
  const key = (text: string, n = 0) => parse(`FROM scratch\n${text}`).stages[0]!.instructions[n]!.key;

  it('is equal when only whitespace, comments, continuations or keyword case change', () => {
    const base = key('COPY --chown=1:1 a b /dst/\n');
    expect(key('copy   --chown=1:1  a \\\n  # note\n  b   /dst/   \n')).toBe(base);
    expect(key('# comment\nCOPY --chown=1:1 a b /dst/\n')).toBe(base);
    expect(key('RUN a && \\\n  # why\n  b\n')).toBe(key('RUN a &&   b\n'));
  });

  it('differs when a flag, an argument or a substituted value changes', () => {
    const base = key('COPY --chown=1:1 a b /dst/\n');
    expect(key('COPY --chown=1:2 a b /dst/\n')).not.toBe(base);
    expect(key('COPY --chown=1:1 --link a b /dst/\n')).not.toBe(base);
    expect(key('COPY --chown=1:1 b a /dst/\n')).not.toBe(base);
    expect(key('ARG D=/dst/\nCOPY --chown=1:1 a b $D\n', 1)).toBe(base);
    expect(key('ARG D=/other/\nCOPY --chown=1:1 a b $D\n', 1)).not.toBe(base);
  });

  it('keeps a RUN command line as written (the builder keys on the string)', () => {
    expect(key('RUN echo  hi\n')).not.toBe(key('RUN echo hi\n'));
    expect(key('RUN ["echo","hi"]\n')).not.toBe(key('RUN echo hi\n'));
  });

  it('leaves a stage alias out of a FROM key', () => {
    expect(parse('FROM alpine AS a\n').stages[0]!.from.key).toBe(parse('FROM alpine AS b\n').stages[0]!.from.key);
  });
});

describe('matchPathPattern (Go filepath.Match)', () => {
  it.each([
    ['*', 'a.txt', true],
    ['*', 'dir/a.txt', false],
    ['src/*.txt', 'src/a.txt', true],
    ['src/*.txt', 'src/sub/b.txt', false],
    ['*/b', 'a/b', true],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[^a-c]x', 'dx', true],
    ['[^a-c]x', 'ax', false],
    ['[]a]', ']', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['a\\?b', 'a?b', true],
    ['*.go', '.hidden.go', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b', 'a/b', false],
    ['[!a]', '!', true],
    ['[!a]', 'b', false],
  ])('%s vs %s → %s', (pattern, path, expected) => {
    expect(matchPathPattern(pattern, path)).toBe(expected);
  });

  it('reports malformed patterns (and matches nothing with them)', () => {
    for (const bad of ['[', '[a', '[]', '[^]', '[a-]', '[-a]', 'a\\', '[x-\\', 'ok*[']) {
      expect(patternError(bad), bad).toBe('syntax error in pattern');
      expect(matchPathPattern(bad, 'a')).toBe(false);
    }
    expect(patternError('x*[ab]?\\*')).toBeUndefined();
    // A failed match still checks the rest of the pattern, as current Go does.
    expect(patternError('nomatch[')).toBe('syntax error in pattern');
  });
});

describe('sourceCovers', () => {
  const src = (text: string) => copies(parse(`FROM scratch\nCOPY ${text} /dst/\n`))[0]!;

  it('handles the context root, directories and files', () => {
    const [dot] = src('.').sources;
    expect(sourceCovers(dot!, 'a/b.txt')).toBe('below');
    expect(sourceCovers(dot!, '.')).toBe('self');
    const [dir, file] = src('./src/ package.json').sources;
    expect(sourceCovers(dir!, 'src')).toBe('self');
    expect(sourceCovers(dir!, 'src/x/y.ts')).toBe('below');
    expect(sourceCovers(dir!, 'srcx/y.ts')).toBeNull();
    expect(sourceCovers(file!, 'package.json')).toBe('self');
    expect(sourceCovers(file!, 'package.json.bak')).toBeNull();
  });

  it('matches wildcards per segment; a matched directory takes everything below it', () => {
    const [txt, pkgs] = src('src/*.txt packages/*').sources;
    expect(sourceCovers(txt!, 'src/a.txt')).toBe('self');
    expect(sourceCovers(txt!, 'src/sub/b.txt')).toBeNull();
    expect(sourceCovers(txt!, 'src/d.txt/inner')).toBe('below');
    expect(sourceCovers(pkgs!, 'packages/api')).toBe('self');
    expect(sourceCovers(pkgs!, 'packages/api/src/index.ts')).toBe('below');
    expect(sourceCovers(pkgs!, 'packages')).toBeNull();
  });

  it('applies --exclude relative to the source', () => {
    const c = copies(parse('FROM scratch\nCOPY --exclude=*.md --exclude=**/tmp --exclude=!keep.md . hom* docs /dst/\n'))[0]!;
    const [dot, hom, docs] = c.sources;
    expect(sourceCovers(dot!, 'README.md', c.exclude)).toBeNull();
    expect(sourceCovers(dot!, 'keep.md', c.exclude)).toBe('below');
    expect(sourceCovers(dot!, 'sub/README.md', c.exclude)).toBe('below');
    expect(sourceCovers(dot!, 'a/b/tmp/x', c.exclude)).toBeNull();
    expect(sourceCovers(hom!, 'home.md', c.exclude)).toBeNull();
    expect(sourceCovers(hom!, 'home.txt', c.exclude)).toBe('self');
    expect(sourceCovers(docs!, 'docs/guide.md', c.exclude)).toBeNull();
    expect(sourceCovers(docs!, 'docs', c.exclude)).toBe('self');
  });

  it('covers nothing for remote, heredoc, stage or unresolved sources', () => {
    const m = parse('FROM scratch AS s\nFROM alpine\nADD https://x.example/a /a\nCOPY <<EOF /f\nx\nEOF\nCOPY --from=s . /x\nCOPY $UNSET_BY_IMAGE /y\n');
    for (const c of copies(m)) expect(sourceCovers(c.sources[0]!, 'a')).toBeNull();
  });
});
