namespace AgVas.Data;

/// <summary>What a <see cref="ShardSpec"/> hashes to assign an image to a shard.</summary>
public enum ShardKey
{
    /// <summary>The image's relative path (<see cref="Sample.RelativePath"/>): the finest and best-balanced partition,
    /// for runs that score each image alone (<c>--context none</c>, and few-shot <c>--normals</c>, whose references are
    /// loaded whole by every shard).</summary>
    Path,

    /// <summary>The image's category (<see cref="Sample.Category"/>): a category's images all fall in one shard, so
    /// <c>--context batch</c>, which scores each image with the others of its category, sees the same batch as an
    /// unsharded run. Balance is as coarse as the categories (15 for MVTec AD, 12 for VisA).</summary>
    Category,
}
