using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Tests.Training;
using Xunit.Abstractions;

namespace AgVas.Tests.Packaging;

/// <summary>
/// The README's C# example, as a stranger would use it: the library and model packages packed into a local folder, a
/// fresh console project that references only them (their dependencies restored from the usual NuGet cache), built,
/// and run on a sample photo; its mask is the mask the API gives in-process. Each run packs a unique version, so NuGet's
/// cache never serves a stale package, and removes it from the cache afterwards.
/// </summary>
[Collection(SerialTrainingCollection.Name)]
public sealed partial class ReadmeExampleTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir dir = new();
    private readonly string version = $"0.0.0-readme{DateTime.UtcNow:yyyyMMddHHmmssfff}";
    private static readonly string Dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public void Dispose()
    {
        dir.Dispose();
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ??
                    Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "agvas", "agvas.models.default" })
        {
            var cached = Path.Combine(cache, id, version);
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }

    [GeneratedRegex(@"## Use it from C#.*?```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpSection();

    [Fact]
    public void TheReadmeProgramSegmentsAnImageThroughThePackages()
    {
        var match = CSharpSection().Match(File.ReadAllText(Repository.Path("README.md")).ReplaceLineEndings("\n"));
        Assert.True(match.Success, "README.md has no ```csharp block under '## Use it from C#'");

        var packages = dir["packages/.keep"][..^".keep".Length];
        foreach (var project in new[] { "src/AgVas/AgVas.csproj", "src/AgVas.Models.Default/AgVas.Models.Default.csproj" })
            Run(Dotnet, ["pack", Repository.Path(project), "-c", Configuration, "--no-build", "-o", packages, $"-p:Version={version}"]);
        var library = Directory.GetFiles(packages, $"AgVas.{version}.nupkg").Single();
        var model = Directory.GetFiles(packages, $"AgVas.Models.Default.{version}.nupkg").Single();
        Assert.True(new FileInfo(library).Length + new FileInfo(model).Length <= 96 << 20, "the library and model packages exceed 96 MiB");
        using (var zip = ZipFile.OpenRead(library))
            Assert.Contains(zip.Entries, e => e.FullName == "buildTransitive/AgVas.targets");
        foreach (var package in new[] { library, model })
            AssertMetadata(package);

        var app = dir["app/.keep"][..^".keep".Length];
        File.WriteAllText(Path.Combine(app, "Program.cs"), match.Groups["code"].Value);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="AgVas" Version="{version}" />
                <PackageReference Include="AgVas.Models.Default" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <configuration>
              <packageSources>
                <add key="local" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        // Hard links instead of copies of libtorch (1.4 GB) keep the test fast; a user's build copies them.
        Run(Dotnet, ["build", app, "-c", "Release", "-o", Path.Combine(app, "out"), "-p:CreateHardLinksForCopyLocalIfPossible=true"]);
        Assert.True(Directory.Exists(Path.Combine(app, "out", "DnnImageModels")), "the ResNet-18 package's files did not reach the output");

        var image = Repository.Path("samples/images/hazelnut/colour_00.jpg");
        var mask = Path.Combine(dir.Path, "mask.png");
        var stdout = Run(Dotnet, [Path.Combine(app, "out", "App.dll"), image, mask]);
        using var segmenter = AnomalySegmenter.LoadDefault();
        var expected = segmenter.Segment(image);
        Assert.Equal(expected.Mask.Data, ImageIO.LoadMask(mask).Data);
        Assert.Contains(expected.Verdict.ToString(), stdout);
    }

    /// <summary>Every package carries its licence, its README and the repository it was packed from (type and commit from
    /// git; the URL only when the clone has a remote, never a guessed one).</summary>
    private static void AssertMetadata(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var reader = new StreamReader(nuspec.Open());
        var metadata = System.Xml.Linq.XDocument.Load(reader).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        var name = Path.GetFileName(package);
        Assert.True(Field("license") == "MIT", $"{name}: no MIT licence expression");
        Assert.True(Field("readme") == "README.md" && zip.GetEntry("README.md") is not null, $"{name}: no README");
        Assert.True(zip.GetEntry("LICENSE") is not null, $"{name}: no LICENSE file");
        var repository = metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository");
        Assert.True(repository?.Attribute("type")?.Value == "git", $"{name}: no git repository element");
        if (Path.Exists(Repository.Path(".git")))                       // a clone (a copy without git has no commit to name)
            Assert.Matches("^[0-9a-f]{40}$", repository!.Attribute("commit")?.Value ?? "");
    }

    private string Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir.Path };
        start.Environment.Remove("MSBuildSDKsPath");          // the test host's MSBuild settings are not the child's
        start.Environment.Remove("MSBUILD_EXE_PATH");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        output.WriteLine($"$ {Path.GetFileName(file)} {string.Join(' ', arguments)}\n{stdout}{stderr.Result}");
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        return stdout;
    }
}
