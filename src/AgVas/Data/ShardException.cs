namespace AgVas.Data;

/// <summary>A bad shard specification: <see cref="AgVasException.File"/> names where it came from (<c>--shard</c> or the
/// <c>JOB_COMPLETION_INDEX</c> variable) and <see cref="AgVasException.Problem"/> says what is wrong.</summary>
public sealed class ShardException(string source, string problem) : AgVasException(source, problem);
