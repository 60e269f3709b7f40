#:project ../../src/AgVas/AgVas.csproj
// Regenerates this example (images, ground-truth masks, manifest.csv and pred/): `dotnet run samples/eval-example/generate.cs`.
// Two categories of five 64x48 images; category_01's maps are stored at half size to show the bilinear resize.
using AgVas.Evaluation;

var here = Path.GetDirectoryName(Path.GetFullPath(ScriptPath()))!;
foreach (var dir in new[] { "category_00", "category_01", "pred" })
    if (Directory.Exists(Path.Combine(here, dir))) Directory.Delete(Path.Combine(here, dir), recursive: true);
var samples = SyntheticEvaluationSet.Write(here, Path.Combine(here, "pred"), new SyntheticEvaluationSetOptions
{
    Categories = 2,
    ImagesPerCategory = 5,
    Width = 64,
    Height = 48,
    NormalFraction = 0.4,
    OddCategoryMapDownscale = 2,
    WritePredictedMasks = true,
    Seed = 2026,
});
Console.WriteLine($"wrote {samples.Count} images, {SyntheticEvaluationSet.ManifestFile} and pred/ under {here}");

static string ScriptPath([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;
