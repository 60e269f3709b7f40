using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using AgVas.Cli.Commands;
using AgVas.Data;
using YamlDotNet.RepresentationModel;

namespace AgVas.Tests.Deploy;

/// <summary>
/// The contract of deploy/ (#20), checked without a cluster: every manifest in deploy/k8s parses; the predict Job is an
/// Indexed Job whose <c>--shard /N</c> matches its completions; the serve Deployment's probes, Prometheus annotations,
/// Service and autoscaler all point at the port that <c>agvas serve</c> is told to listen on; one image everywhere; pods
/// run as the Dockerfile's non-root user; and every container's command line parses with the CLI's real commands.
/// </summary>
/// <remarks>The command-line check uses the commands the CLI assembly defines (every <c>AgVas.Cli.Commands.*Command.Create()</c>),
/// so it fails, naming the command or flag, while a manifest uses one that does not exist yet: <c>serve</c> (branch
/// <c>serve</c>) and <c>predict --shard</c> (to be wired after the <c>reliability</c> merge).</remarks>
public sealed class DeployManifestTests
{
    private static readonly string K8sDir = Repository.Path("deploy/k8s");
    private static readonly string DockerfilePath = Repository.Path("deploy/Dockerfile");

    /// <summary>Every document of every YAML file in deploy/k8s.</summary>
    private static readonly IReadOnlyList<Manifest> Manifests = LoadManifests();

    private sealed record Manifest(string File, YamlMappingNode Root)
    {
        public string Kind => Root.Text("kind");
        public string Name => Root.Node("metadata").Text("name");
        public override string ToString() => $"{File}: {Kind} {Name}";
    }

    /// <summary>A container of a workload, with its pod spec.</summary>
    private sealed record Container(Manifest Owner, YamlMappingNode Pod, YamlMappingNode Spec)
    {
        public string Name => Spec.Text("name");
        public IReadOnlyList<string> Args => Spec.Strings("args");
    }

    private static IReadOnlyList<Manifest> LoadManifests()
    {
        var manifests = new List<Manifest>();
        foreach (var file in Directory.EnumerateFiles(K8sDir, "*.y*ml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using (var reader = File.OpenText(file)) stream.Load(reader);
            foreach (var document in stream.Documents)
                manifests.Add(new Manifest(Path.GetFileName(file), Assert.IsType<YamlMappingNode>(document.RootNode)));
        }
        return manifests;
    }

    private static Manifest Single(string file, string kind) => Assert.Single(Manifests, m => m.File == file && m.Kind == kind);

    private static IEnumerable<Container> Containers() =>
        from m in Manifests
        where m.Kind is "Job" or "Deployment" or "StatefulSet" or "DaemonSet" or "Pod"
        let pod = m.Kind == "Pod" ? m.Root.Node("spec") : m.Root.Node("spec").Node("template").Node("spec")
        from c in pod.Nodes("containers")
        select new Container(m, pod, c);

    public static TheoryData<string, string> ContainerCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in Containers()) data.Add(c.Owner.File, c.Name);
        return data;
    }

    private static Container FindContainer(string file, string name) => Assert.Single(Containers(), c => c.Owner.File == file && c.Name == name);

    [Fact]
    public void Every_manifest_parses_with_apiVersion_kind_and_name()
    {
        Assert.Contains(Manifests, m => m.File == "predict-job.yaml");
        Assert.Contains(Manifests, m => m.File == "serve-deployment.yaml");
        Assert.All(Manifests, m =>
        {
            Assert.False(string.IsNullOrEmpty(m.Root.Text("apiVersion")), m.ToString());
            Assert.False(string.IsNullOrEmpty(m.Kind), m.ToString());
            Assert.False(string.IsNullOrEmpty(m.Name), m.ToString());
        });
    }

    [Fact]
    public void Predict_job_is_an_indexed_job_whose_shard_count_is_its_completions()
    {
        var job = Single("predict-job.yaml", "Job");
        var spec = job.Root.Node("spec");
        Assert.Equal("Indexed", spec.Text("completionMode"));
        var completions = spec.Int("completions");
        var parallelism = spec.Int("parallelism");
        Assert.True(completions >= 1, $"completions {completions}");
        Assert.InRange(parallelism, 1, completions);
        Assert.Equal("Never", spec.Node("template").Node("spec").Text("restartPolicy"));

        var container = Assert.Single(Containers(), c => c.Owner == job);
        Assert.False(container.Spec.Has("command"), "the container must keep the image's ENTRYPOINT (the CLI): set args, not command");
        Assert.Equal("predict", container.Args[0]);
        var shard = OptionValue(container.Args, "--shard");
        // K comes from JOB_COMPLETION_INDEX: either omitted (/N, read by the CLI) or expanded by Kubernetes.
        var match = Regex.Match(shard, @"^(?:\$\(JOB_COMPLETION_INDEX\))?/(\d+)$");
        Assert.True(match.Success, $"--shard {shard}: expected /N or $(JOB_COMPLETION_INDEX)/N");
        Assert.Equal(completions, int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        for (var k = 0; k < completions; k++)
        {
            var index = k.ToString(CultureInfo.InvariantCulture);
            var resolved = ShardSpec.Resolve(shard.Replace("$(JOB_COMPLETION_INDEX)", index), name => name == ShardSpec.IndexVariable ? index : null);
            Assert.Equal(new ShardSpec(k, completions), resolved);
        }
        // One index past the end (completions larger than N) is refused.
        var past = completions.ToString(CultureInfo.InvariantCulture);
        Assert.Throws<ShardException>(() => ShardSpec.Resolve(shard.Replace("$(JOB_COMPLETION_INDEX)", past), _ => past));
    }

    [Theory]
    [InlineData("predict-job.yaml", "predict", "--data", new[] { "--out" })]
    [InlineData("eval-job.yaml", "eval", "--data", new[] { "--pred", "--out" })]
    public void Job_paths_are_on_mounted_volumes(string file, string containerName, string readOption, string[] otherOptions)
    {
        var container = FindContainer(file, containerName);
        var mounts = container.Spec.Nodes("volumeMounts").ToList();
        var volumes = container.Pod.Nodes("volumes").Select(v => v.Text("name")).ToHashSet();
        Assert.All(mounts, m => Assert.Contains(m.Text("name"), volumes));

        YamlMappingNode MountOf(string path) => Assert.Single(mounts, m => path.StartsWith(m.Text("mountPath").TrimEnd('/') + "/", StringComparison.Ordinal));
        Assert.Equal("true", MountOf(OptionValue(container.Args, readOption)).TextOrNull("readOnly"));
        var output = OptionValue(container.Args, "--out");
        Assert.NotEqual("true", MountOf(output).TextOrNull("readOnly"));
        foreach (var option in otherOptions) MountOf(OptionValue(container.Args, option));

        // Each persistent volume claim is one that deploy/k8s creates.
        var claims = Manifests.Where(m => m.Kind == "PersistentVolumeClaim").Select(m => m.Name).ToHashSet();
        foreach (var volume in container.Pod.Nodes("volumes").Where(v => v.Has("persistentVolumeClaim")))
            Assert.Contains(volume.Node("persistentVolumeClaim").Text("claimName"), claims);
    }

    [Fact]
    public void Predict_job_requests_resources_sized_from_the_benchmarks()
    {
        var container = Assert.Single(Containers(), c => c.Owner.File == "predict-job.yaml");
        var requests = container.Spec.Node("resources").Node("requests");
        var limits = container.Spec.Node("resources").Node("limits");
        // models/agvas-tiny-resnet/README.md: peak RSS 1.4 GiB; ~1 image/s per 2 cores.
        Assert.True(Bytes(requests.Text("memory")) >= 1.4 * (1L << 30), "memory request below the measured 1.4 GiB RSS");
        Assert.True(Bytes(limits.Text("memory")) >= Bytes(requests.Text("memory")));
        var cpu = Cores(requests.Text("cpu"));
        Assert.True(cpu >= 1);
        // libtorch would otherwise start one thread per core of the node.
        Assert.Equal(cpu, double.Parse(EnvValue(container, "OMP_NUM_THREADS"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Serve_probes_metrics_service_and_autoscaler_use_the_port_serve_listens_on()
    {
        var deployment = Single("serve-deployment.yaml", "Deployment");
        var container = Assert.Single(Containers(), c => c.Owner == deployment);
        Assert.False(container.Spec.Has("command"), "the container must keep the image's ENTRYPOINT (the CLI): set args, not command");
        Assert.Equal("serve", container.Args[0]);
        Assert.Equal("0.0.0.0", OptionValue(container.Args, "--host"));
        var port = int.Parse(OptionValue(container.Args, "--port"), CultureInfo.InvariantCulture);

        var ports = container.Spec.Nodes("ports").ToList();
        var named = ports.Where(p => p.Has("name")).ToDictionary(p => p.Text("name"), p => p.Int("containerPort"));
        Assert.Contains(port, ports.Select(p => p.Int("containerPort")));
        int Resolve(string portText) => int.TryParse(portText, CultureInfo.InvariantCulture, out var n) ? n : named[portText];

        foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
        {
            var get = container.Spec.Node(probe).Node("httpGet");
            Assert.Equal("/healthz", get.Text("path"));
            Assert.Equal(port, Resolve(get.Text("port")));
        }
        if (container.Spec.Has("startupProbe"))
            Assert.Equal(port, Resolve(container.Spec.Node("startupProbe").Node("httpGet").Text("port")));

        var template = deployment.Root.Node("spec").Node("template");
        var annotations = template.Node("metadata").Node("annotations");
        Assert.Equal("true", annotations.Text("prometheus.io/scrape"));
        Assert.Equal("/metrics", annotations.Text("prometheus.io/path"));
        Assert.Equal(port, annotations.Int("prometheus.io/port"));

        // SIGTERM drains for up to --shutdown-seconds: the pod must be given longer.
        if (container.Args.Contains("--shutdown-seconds"))
            Assert.True(template.Node("spec").Int("terminationGracePeriodSeconds") > int.Parse(OptionValue(container.Args, "--shutdown-seconds"), CultureInfo.InvariantCulture));

        var podLabels = template.Node("metadata").Node("labels").Pairs();
        Assert.Subset(podLabels.ToHashSet(), deployment.Root.Node("spec").Node("selector").Node("matchLabels").Pairs().ToHashSet());

        var service = Single("serve-deployment.yaml", "Service");
        Assert.Subset(podLabels.ToHashSet(), service.Root.Node("spec").Node("selector").Pairs().ToHashSet());
        Assert.All(service.Root.Node("spec").Nodes("ports"), p => Assert.Equal(port, Resolve(p.Text("targetPort"))));

        var hpa = Single("serve-deployment.yaml", "HorizontalPodAutoscaler");
        var target = hpa.Root.Node("spec").Node("scaleTargetRef");
        Assert.Equal("Deployment", target.Text("kind"));
        Assert.Equal("apps/v1", target.Text("apiVersion"));
        Assert.Equal(deployment.Name, target.Text("name"));
        Assert.InRange(hpa.Root.Node("spec").Int("minReplicas"), 1, hpa.Root.Node("spec").Int("maxReplicas"));
    }

    [Fact]
    public void One_image_for_every_container()
    {
        var images = Containers().Select(c => c.Spec.Text("image")).Distinct().ToList();
        Assert.True(images.Count == 1, $"several images: {string.Join(", ", images)}");
        Assert.Matches(@"^[\w.\-/:]+/agvas:[\w.\-]+$", images[0]);
    }

    [Fact]
    public void Pods_run_as_the_dockerfiles_non_root_user()
    {
        var user = Dockerfile().Last(i => i.Instruction == "USER").Arguments;
        Assert.True(int.TryParse(user.Split(':')[0], CultureInfo.InvariantCulture, out var uid) && uid > 0,
            $"USER {user}: must be a numeric non-root uid (runAsNonRoot cannot verify a name)");
        Assert.All(Containers(), c =>
        {
            var context = c.Pod.Node("securityContext");
            Assert.Equal("true", context.Text("runAsNonRoot"));
            Assert.Equal(uid, context.Int("runAsUser"));
        });
    }

    [Fact]
    public void Dockerfile_builds_on_the_sdk_runs_on_aspnet_as_non_root_with_the_cli_as_entrypoint()
    {
        var instructions = Dockerfile();
        var stages = instructions.Where(i => i.Instruction == "FROM").Select(i => i.Arguments.Split(' ')[0]).ToList();
        Assert.Equal(2, stages.Count);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", stages[0]);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", stages[1]);
        // The glibc++ fix is decided on the build stage's libstdc++: both stages must be the same distro.
        Assert.Equal(stages[0].Split(':')[1], stages[1].Split(':')[1]);

        var runtime = instructions.Skip(instructions.FindLastIndex(i => i.Instruction == "FROM")).ToList();
        Assert.Contains(runtime, i => i.Instruction == "USER");
        Assert.Contains(instructions.Where(i => i.Instruction == "RUN"), i => i.Arguments.Contains("dotnet publish src/AgVas.Cli/AgVas.Cli.csproj"));
        var entrypoint = runtime.Last(i => i.Instruction == "ENTRYPOINT").Arguments;
        Assert.Equal("[\"/app/AgVas.Cli\"]", entrypoint);
        // EXPOSE matches the port serve is told to listen on.
        var serve = Assert.Single(Containers(), c => c.Args.FirstOrDefault() == "serve");
        Assert.Equal(OptionValue(serve.Args, "--port"), runtime.Last(i => i.Instruction == "EXPOSE").Arguments);
        // The context keeps the default model, which publish copies to /app/models/...
        var ignore = File.ReadAllLines(Repository.Path(".dockerignore"));
        Assert.Contains("!models/agvas-tiny-resnet/", ignore);
        Assert.Contains(".git/", ignore);
    }

    /// <summary>Each container's args parse with the CLI's real command: the subcommand exists, every flag is one of its
    /// options, values convert, and required options are present. Fails for <c>serve</c> until the serve branch is merged
    /// and for <c>predict --shard</c> until the option is wired.</summary>
    [Theory]
    [MemberData(nameof(ContainerCases))]
    public void Cli_accepts_the_manifest_command_line(string file, string containerName)
    {
        var args = FindContainer(file, containerName).Args;
        Assert.NotEmpty(args);
        var commands = CliCommands();
        Assert.True(commands.TryGetValue(args[0], out var command),
            $"{file}/{containerName}: the CLI has no '{args[0]}' command (it has: {string.Join(", ", commands.Keys.Order())})");
        var root = new RootCommand { command };
        var result = root.Parse(args.ToArray());
        Assert.True(result.Errors.Count == 0,
            $"{file}/{containerName}: `agvas {string.Join(' ', args)}`: {string.Join("; ", result.Errors.Select(e => e.Message))}");
    }

    /// <summary>The CLI's commands by name: every static <c>Create()</c> returning a <see cref="Command"/> in the
    /// CLI assembly's <c>AgVas.Cli.Commands</c> namespace (so commands that land later are found without a change here).</summary>
    private static Dictionary<string, Command> CliCommands() =>
        typeof(PredictCommand).Assembly.GetTypes()
            .Where(t => t.Namespace == "AgVas.Cli.Commands")
            .Select(t => t.GetMethod("Create", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, Type.EmptyTypes))
            .Where(m => m is not null && typeof(Command).IsAssignableFrom(m.ReturnType))
            .Select(m => (Command)m!.Invoke(null, null)!)
            .ToDictionary(c => c.Name);

    private static string OptionValue(IReadOnlyList<string> args, string option)
    {
        var i = args.ToList().IndexOf(option);
        Assert.True(i >= 0 && i + 1 < args.Count, $"`{string.Join(' ', args)}` has no value for {option}");
        return args[i + 1];
    }

    private static string EnvValue(Container container, string name) =>
        Assert.Single(container.Spec.Nodes("env"), e => e.Text("name") == name).Text("value");

    /// <summary>A Kubernetes memory quantity in bytes (Ki/Mi/Gi/Ti, k/M/G/T, or plain).</summary>
    private static double Bytes(string quantity)
    {
        var m = Regex.Match(quantity, @"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$");
        Assert.True(m.Success, $"quantity {quantity}");
        var scale = m.Groups[2].Value switch
        {
            "Ki" => 1L << 10, "Mi" => 1L << 20, "Gi" => 1L << 30, "Ti" => 1L << 40,
            "k" => 1e3, "M" => 1e6, "G" => 1e9, "T" => 1e12, _ => 1.0,
        };
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * scale;
    }

    /// <summary>A Kubernetes CPU quantity in cores ("2", "1.5", "500m").</summary>
    private static double Cores(string quantity) =>
        quantity.EndsWith('m') ? double.Parse(quantity[..^1], CultureInfo.InvariantCulture) / 1000 : double.Parse(quantity, CultureInfo.InvariantCulture);

    private sealed record DockerInstruction(string Instruction, string Arguments);

    /// <summary>The Dockerfile's instructions (comments dropped, continuation lines joined).</summary>
    private static List<DockerInstruction> Dockerfile()
    {
        var text = string.Join('\n', File.ReadAllLines(DockerfilePath).Where(l => !l.TrimStart().StartsWith('#')));
        text = Regex.Replace(text, @"\\\n", " ");
        return text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)
            .Select(l => l.Split(' ', 2))
            .Select(p => new DockerInstruction(p[0].ToUpperInvariant(), p.Length > 1 ? p[1].Trim() : ""))
            .ToList();
    }
}
