using AgVas.Checkpoints;

namespace AgVas.Inference;

/// <summary>Finds and opens model directories for inference.</summary>
public static class ModelStore
{
    /// <summary>The embedded default model's directory, relative to the repository (or install) root.</summary>
    public const string DefaultModelPath = "models/agvas-tiny";

    /// <summary>
    /// The embedded default model: <see cref="DefaultModelPath"/> found in the application's directory or one of its
    /// parents, or in the working directory or one of its parents. Throws a clear error when it is not there.
    /// </summary>
    public static string LocateDefault()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, DefaultModelPath);
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        throw new CheckpointException(DefaultModelPath,
            $"no --model given and the embedded default model was not found in {AppContext.BaseDirectory}, the working directory or their parents; pass --model <model dir>");
    }

    /// <summary>Opens an AG-VAS model directory for inference (<see cref="AgVasModelDirectory"/>); a missing, truncated or
    /// inconsistent directory is a <see cref="CheckpointException"/> (or TokenizerException) naming the file.</summary>
    public static ISegmentationModel Open(string directory) => Training.AgVasTrainingModel.Load(directory);

    /// <summary><see cref="Open"/>(<paramref name="directory"/>), or the embedded default model when it is null.</summary>
    public static ISegmentationModel OpenOrDefault(string? directory) => Open(directory ?? LocateDefault());
}
