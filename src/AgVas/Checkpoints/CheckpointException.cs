namespace AgVas.Checkpoints;

/// <summary>A bad checkpoint file (safetensors, index.json, directory layout): the message names the file, the
/// tensor where one is involved, and the problem, on one line.</summary>
public sealed class CheckpointException(string path, string problem, Exception? inner = null)
    : AgVasException(path, problem, inner);
