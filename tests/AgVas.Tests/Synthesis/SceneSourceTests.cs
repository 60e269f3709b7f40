using AgVas.Synthesis;

namespace AgVas.Tests.Synthesis;

/// <summary>Procedural scenes: deterministic, an object distinct from its background, resolvable by name.</summary>
public class SceneSourceTests
{
    [Fact]
    public void ScenesAreDeterministicAndDifferBySeed()
    {
        var source = new SceneSource();
        var a = source.Load(3, 96, 42).Image.Pixels;
        Assert.Equal(a, source.Load(3, 96, 42).Image.Pixels);
        Assert.NotEqual(a, source.Load(3, 96, 43).Image.Pixels);
        Assert.Equal(SceneSource.Category, source.Load(0, 32, 1).Category);
    }

    [Fact]
    public void TheObjectIsFoundAsForegroundInMostScenes()
    {
        // The foreground estimator (used to keep defects on objects) sees the scene's object: a sanity check that scenes
        // really are "an object on a background", not one more texture. Textures (ProceduralSource) almost never have one;
        // the border-colour estimator misses objects whose colour is close to a busy background, hence half, not all.
        var source = new SceneSource();
        int objects = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var fg = Foreground.Estimate(source.Load(seed % source.Count, 96, (ulong)seed).Image);
            if (fg.IsObject) objects++;
        }
        Assert.True(objects >= 10, $"{objects} of 20 scenes have an object the estimator finds");
        var textures = new ProceduralSource();
        int textureObjects = Enumerable.Range(0, 20).Count(seed => Foreground.Estimate(textures.Load(seed % textures.Count, 96, (ulong)seed).Image).IsObject);
        Assert.True(textureObjects < objects, $"textures {textureObjects} vs scenes {objects} with an object");
    }

    [Theory]
    [InlineData("procedural", typeof(ProceduralSource))]
    [InlineData("Scenes", typeof(SceneSource))]
    public void NamedSourcesResolve(string name, Type type) => Assert.IsType(type, NormalSources.Resolve(name));
}
