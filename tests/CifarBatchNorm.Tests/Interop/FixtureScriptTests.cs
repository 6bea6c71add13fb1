using CifarBatchNorm.Interop;
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
        // The reference outputs are float64 sums whose last digit depends on numpy's BLAS build: compare as numbers.
        double[] committedValues = Numbers(File.ReadAllText(InteropFixtures.Path("tiny-reference.json")));
        double[] regeneratedValues = Numbers(File.ReadAllText(dir.Combine("tiny-reference.json")));
        Assert.Equal(committedValues.Length, regeneratedValues.Length);
        for (int i = 0; i < committedValues.Length; i++)
        {
            Assert.True(Math.Abs(committedValues[i] - regeneratedValues[i]) <= 1e-12 * Math.Max(1, Math.Abs(committedValues[i])),
                $"value {i}: committed {committedValues[i]:R}, regenerated {regeneratedValues[i]:R}");
        }

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

    private static double[] Numbers(string json)
    {
        var values = new List<double>();
        void Walk(System.Text.Json.JsonElement e)
        {
            switch (e.ValueKind)
            {
                case System.Text.Json.JsonValueKind.Number:
                    values.Add(e.GetDouble());
                    break;
                case System.Text.Json.JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        Walk(item);
                    }

                    break;
                case System.Text.Json.JsonValueKind.Object:
                    foreach (var property in e.EnumerateObject())
                    {
                        Walk(property.Value);
                    }

                    break;
            }
        }

        using var document = System.Text.Json.JsonDocument.Parse(json);
        Walk(document.RootElement);
        return [.. values];
    }
}
