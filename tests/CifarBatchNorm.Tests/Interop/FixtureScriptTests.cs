using CifarBatchNorm.Tests.Support;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>The committed fixtures are what fixtures/make_fixtures.py writes (checked where python3-h5py is installed).</summary>
public sealed class FixtureScriptTests
{
    [SkippableFact]
    public void Script_regenerates_the_committed_fixtures()
    {
        Python.Require("h5py", "numpy");
        using var dir = new TempDirectory();
        var (code, _, error) = Python.Run(
            "import runpy, sys; sys.argv = [sys.argv[1], sys.argv[2]]; runpy.run_path(sys.argv[0], run_name='__main__')",
            InteropFixtures.Path("make_fixtures.py"), dir.Path);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllText(InteropFixtures.Path("tiny-reference.json")), File.ReadAllText(dir.Combine("tiny-reference.json")));

        using var scope = NewDisposeScope();
        foreach (string file in new[] { "tiny-bn.weights.h5", "tiny-bn-keras2.h5" })
        {
            using var committed = InteropFixtures.TinyModel();
            using var regenerated = InteropFixtures.TinyModel();
            committed.LoadWeights(InteropFixtures.Path(file));
            regenerated.LoadWeights(dir.Combine(file));
            var x = InteropFixtures.LoadReference("bn").Input();
            Assert.True(committed.Predict(x).eq(regenerated.Predict(x)).all().item<bool>(), file);
        }
    }
}
