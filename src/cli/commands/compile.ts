/**
 * `faultline compile FILE --platform chaos-mesh|istio|aws-fis|litmus [--out-dir DIR]`: the experiment as
 * platform manifests, on stdout or one file per document in DIR. Guardrails and faults the
 * platform cannot express are errors (exit 2, every problem located); notes about what was left
 * out go to stderr.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError, ValidationError } from '../../errors.js';
import { parseVarArgs, readVarFile } from '../../experiment/substitute.js';
import { LITMUS_WORKLOAD_KINDS, type LitmusWorkloadKind } from '../../compile/litmus.js';
import { PLATFORMS, type Platform } from '../../compile/platforms.js';
import { addDeprecatedAlias } from '../deprecated-option.js';
import { println, type CliIo } from '../io.js';

interface CompileFlags {
  platform?: string;
  outDir?: string;
  namespace?: string;
  schedule?: string;
  allowWideBlast?: boolean;
  allowProduction?: boolean;
  var?: string[];
  varFile?: string[];
  roleArn?: string;
  clusterArn?: string;
  serviceAccount?: string;
  stopAlarm?: string[];
  workloadKind?: string;
  chaosServiceAccount?: string;
}

export function registerCompileCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const compile = program
    .command('compile')
    .description(
      'the experiment as platform manifests: Chaos Mesh, Istio VirtualServices, an AWS FIS template or Litmus ChaosEngines',
    )
    .argument('<file>', 'experiment file (faultline format, YAML or JSON)')
    .option('--platform <platform>', `one of ${PLATFORMS.join(', ')} (required)`)
    .option('--out-dir <dir>', 'write one file per document into this directory (default: stdout)')
    .option(
      '--namespace <ns>',
      'create the objects in this namespace (default: the namespace of the faulted pods)',
    )
    .option(
      '--schedule <cron>',
      'chaos-mesh: wrap the experiment in a Schedule with this cron expression',
    )
    .option('--allow-wide-blast', 'accept mode all and more than 50 % of the pods')
    .option('--allow-production', 'accept a production environment')
    .option('--var <name=value...>', 'set a configuration value')
    .option('--var-file <file...>', 'configuration values from a YAML/JSON file')
    .option('--role-arn <arn>', 'aws-fis: the IAM role FIS assumes')
    .option('--cluster-arn <arn>', 'aws-fis: the EKS cluster')
    .option(
      '--service-account <name>',
      'aws-fis: the Kubernetes service account FIS uses',
      'fis-experiment',
    )
    .option('--stop-alarm <arn...>', 'aws-fis: CloudWatch alarms that stop the experiment')
    .option(
      '--workload-kind <kind>',
      `litmus: the owner kind of the selected pods (${LITMUS_WORKLOAD_KINDS.join(', ')}; default deployment)`,
    )
    .option(
      '--chaos-service-account <name>',
      'litmus: the service account the experiment pods run as (default litmus-admin)',
    )
    .action(async (file: string, flags: CompileFlags) => {
      setExit(await compileFile(file, flags, io));
    });
  addDeprecatedAlias(compile, io, {
    flags: '--target <platform>',
    replacement: 'platform',
    replacementFlag: '--platform',
  });
  addDeprecatedAlias(compile, io, {
    flags: '-o, --output <dir>',
    replacement: 'outDir',
    replacementFlag: '--out-dir',
  });
}

async function compileFile(file: string, flags: CompileFlags, io: CliIo): Promise<number> {
  if (flags.platform === undefined) {
    throw new UsageError('compile needs --platform', {
      hint: `one of ${PLATFORMS.join(', ')}, e.g. faultline compile ${file} --platform chaos-mesh`,
    });
  }
  if (!(PLATFORMS as readonly string[]).includes(flags.platform)) {
    throw new UsageError(`--platform ${flags.platform} is not a platform faultline compiles to`, {
      hint: `one of ${PLATFORMS.join(', ')}${flags.platform === 'kubernetes' ? ' (kubernetes is for faultline run --target kubernetes)' : ''}`,
    });
  }
  const platform = flags.platform as Platform;
  if (flags.schedule !== undefined && platform !== 'chaos-mesh')
    throw new UsageError('--schedule applies to --platform chaos-mesh');
  if (
    flags.workloadKind !== undefined &&
    !(LITMUS_WORKLOAD_KINDS as readonly string[]).includes(flags.workloadKind)
  ) {
    throw new UsageError(
      `--workload-kind ${flags.workloadKind} is not a workload kind Litmus selects by`,
      { hint: `one of ${LITMUS_WORKLOAD_KINDS.join(', ')}` },
    );
  }
  const [
    { readDocument, validateExperiment },
    { isChaosToolkitDocument },
    { readExperimentText },
    { compileForPlatform, toYaml },
  ] = await Promise.all([
    import('../../run-plan/read-experiment.js'),
    import('../../chaostoolkit/detect.js'),
    import('../../run-plan/read-plan.js'),
    import('../../compile/platform-compile.js'),
  ]);
  const read = readDocument(await readExperimentText(resolve(io.cwd, file), file), file);
  if (isChaosToolkitDocument(read.data)) {
    throw new ValidationError(
      `${file}: a Chaos Toolkit experiment`,
      [{ path: '', file, message: "compile takes experiments in faultline's format" }],
      { hint: 'faultline run runs Chaos Toolkit experiments as they are' },
    );
  }
  const vars: Record<string, unknown> = {};
  for (const varFile of flags.varFile ?? [])
    Object.assign(vars, await readVarFile(resolve(io.cwd, varFile)));
  Object.assign(vars, parseVarArgs(flags.var ?? []));
  const experiment = validateExperiment(read, file, { vars: Object.keys(vars) });
  const output = compileForPlatform(experiment, read, platform, {
    file,
    env: io.env,
    vars,
    namespace: flags.namespace,
    schedule: flags.schedule,
    allowWideBlast: flags.allowWideBlast,
    allowProduction: flags.allowProduction,
    roleArn: flags.roleArn,
    clusterArn: flags.clusterArn,
    serviceAccount: flags.serviceAccount,
    stopAlarms: flags.stopAlarm,
    workloadKind: flags.workloadKind as LitmusWorkloadKind | undefined,
    chaosServiceAccount: flags.chaosServiceAccount,
  });
  for (const note of output.notes) println(io.stderr, `note: ${note}`);
  if (flags.outDir) {
    const dir = resolve(io.cwd, flags.outDir);
    await mkdir(dir, { recursive: true });
    for (const f of output.files) {
      await writeFile(join(dir, f.name), f.text);
      println(io.stderr, `wrote ${join(flags.outDir, f.name)}`);
    }
  } else if (platform === 'aws-fis') {
    for (const f of output.files) io.stdout.write(f.text);
  } else {
    io.stdout.write(toYaml(output.files.map((f) => f.document)));
  }
  return 0;
}
