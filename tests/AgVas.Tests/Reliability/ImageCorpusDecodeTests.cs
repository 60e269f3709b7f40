using AgVas.Data;
using Xunit.Abstractions;

namespace AgVas.Tests.Reliability;

/// <summary>The generated corpus through the decoders alone: every good file decodes at its size, as an image and as a
/// mask; every bad one is a one-line <see cref="DataException"/> naming the file — never a crash, never a silent
/// partial decode.</summary>
public class ImageCorpusDecodeTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryFileDecodesOrIsRefusedNamingIt()
    {
        using var dir = new TempDir();
        var files = BadInputCorpus.Write(dir.Path, BadInputCorpus.All());
        var wrong = new List<string>();
        foreach (var f in files)
        {
            var path = Path.Combine(dir.Path, f.Name);
            try
            {
                var image = ImageIO.LoadRgb(path);
                var mask = ImageIO.LoadMask(path);
                var size = ImageIO.ReadSize(path);
                if (!f.Good) wrong.Add($"{BadInputCorpus.Describe(f)}: decoded as {image.Width}x{image.Height}");
                else if ((image.Width, image.Height) != (f.Width, f.Height) || (mask.Width, mask.Height) != (f.Width, f.Height) || size != new ImageSize(f.Width, f.Height))
                    wrong.Add($"{BadInputCorpus.Describe(f)}: image {image.Width}x{image.Height}, mask {mask.Width}x{mask.Height}, header {size}");
            }
            catch (DataException e)
            {
                if (f.Good) wrong.Add($"{BadInputCorpus.Describe(f)}: {e.Message}");
                else if (!e.Message.StartsWith(path + ": ") || e.Message.Contains('\n')) wrong.Add($"{BadInputCorpus.Describe(f)}: badly worded: {e.Message}");
            }
            catch (Exception e)
            {
                wrong.Add($"{BadInputCorpus.Describe(f)}: crashed with {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"image corpus: {files.Count} files, {files.Count(f => !f.Good)} bad, {files.Count(f => f.Good)} good (odd or extreme)");
        Assert.True(files.Count(f => !f.Good) >= 200, $"only {files.Count(f => !f.Good)} bad files");
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {files.Count} files handled wrongly:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void TextNamedPngIsNotAnImageRatherThanTruncated()
    {
        using var dir = new TempDir();
        var path = dir["text.png"];
        File.WriteAllText(path, "hello, world");
        var e = Assert.Throws<DataException>(() => ImageIO.LoadRgb(path));
        Assert.Contains("not a readable image: the content is no supported format", e.Message);
        Assert.Contains("'hello, w'", e.Message);
        Assert.DoesNotContain("truncated", e.Message);
    }

    [Fact]
    public void ATruncatedProgressiveJpegIsRefusedNotFilledWithGrey()
    {
        var bytes = File.ReadAllBytes(Data.DataFixtures.CorpusFile("progressive.jpg"));
        Assert.Equal(48, ImageIO.LoadRgb(bytes, "whole").Width);
        var e = Assert.Throws<DataException>(() => ImageIO.LoadRgb(bytes[..(bytes.Length * 2 / 3)], "cut.jpg"));
        Assert.Contains("truncated", e.Message);
    }

    /// <summary>oriented6.jpg is stored 48x32 with its bright block top-left and EXIF orientation 6 (rotate 90° clockwise
    /// to view): images and masks come upright, 32x48, the block top-right, and the header size agrees.</summary>
    [Fact]
    public void ExifOrientationTurnsImageAndMaskAlike()
    {
        var path = Data.DataFixtures.CorpusFile("oriented6.jpg");
        var image = ImageIO.LoadRgb(path);
        Assert.Equal((32, 48), (image.Width, image.Height));
        Assert.Equal(new ImageSize(32, 48), ImageIO.ReadSize(path));
        int Red(int x, int y) => image.Pixels[(y * image.Width + x) * 3];
        Assert.True(Red(30, 2) > 200, $"top right is {Red(30, 2)}");
        Assert.True(Red(1, 2) < 200, $"top left is {Red(1, 2)}");
        var mask = ImageIO.LoadMask(path, MaskRule.AtLeast128);
        Assert.Equal((32, 48), (mask.Width, mask.Height));
        var expected = Enumerable.Range(0, 32 * 48).Select(i =>
            ImageIO.Luma(image.Pixels[3 * i], image.Pixels[3 * i + 1], image.Pixels[3 * i + 2]) >= 128).ToArray();
        Assert.Equal(expected, mask.Data);
        Assert.Contains(true, mask.Data);
    }
}
