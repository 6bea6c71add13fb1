namespace CifarBatchNorm.Data;

/// <summary>
/// A seeded, class-conditional image set that a small CNN can learn, for tests and offline runs. Each class
/// has a smooth pattern (a few random sinusoids per channel); each image is its class pattern shifted by up
/// to two pixels, scaled in contrast, plus uniform per-pixel noise. Every image draws from its own generator
/// seeded by (seed, split, index), so the result does not depend on thread scheduling.
/// </summary>
public static class SyntheticImages
{
    /// <summary>Generates the training and test sets.</summary>
    public static (ImageDataset Train, ImageDataset Test) Generate(SyntheticOptions? options = null)
    {
        options = (options ?? new SyntheticOptions()).Validate();
        float[][] patterns = MakePatterns(options);
        string[] names = Enumerable.Range(0, options.Classes).Select(c => $"class_{c}").ToArray();
        var train = MakeSplit(options, patterns, names, split: 0, options.TrainCount, "Synthetic train");
        var test = MakeSplit(options, patterns, names, split: 1, options.TestCount, "Synthetic test");
        return (train, test);
    }

    private static float[][] MakePatterns(SyntheticOptions o)
    {
        var (h, w, c) = (o.Shape.Height, o.Shape.Width, o.Shape.Channels);
        var patterns = new float[o.Classes][];
        for (int k = 0; k < o.Classes; k++)
        {
            var rng = new SplitMix(Mix(o.Seed, 7, k));
            var pattern = new float[c * h * w];
            for (int ch = 0; ch < c; ch++)
            {
                for (int wave = 0; wave < 3; wave++)
                {
                    double fy = (rng.NextDouble() * 3.5) + 0.5;
                    double fx = (rng.NextDouble() * 3.5) + 0.5;
                    double phase = rng.NextDouble() * 2 * Math.PI;
                    double amplitude = 25 + (rng.NextDouble() * 25);
                    for (int y = 0; y < h; y++)
                    {
                        for (int x = 0; x < w; x++)
                        {
                            pattern[(((ch * h) + y) * w) + x] += (float)(amplitude * Math.Sin((2 * Math.PI * ((fy * y / h) + (fx * x / w))) + phase));
                        }
                    }
                }
            }

            patterns[k] = pattern;
        }

        return patterns;
    }

    private static ImageDataset MakeSplit(SyntheticOptions o, float[][] patterns, string[] names, int split, int count, string name)
    {
        var (h, w, c) = (o.Shape.Height, o.Shape.Width, o.Shape.Channels);
        int size = o.Shape.Size;
        var pixels = new byte[(long)count * size];
        var labels = new byte[count];
        Parallel.For(0, count, i =>
        {
            var rng = new SplitMix(Mix(o.Seed, split, i));
            int label = (int)(rng.Next() % (ulong)o.Classes);
            labels[i] = (byte)label;
            int dy = (int)(rng.Next() % 5) - 2;
            int dx = (int)(rng.Next() % 5) - 2;
            float contrast = 0.7f + (0.6f * (float)rng.NextDouble());
            float brightness = 128f + (float)((rng.NextDouble() - 0.5) * 40);
            float[] pattern = patterns[label];
            var image = pixels.AsSpan(i * size, size);
            ulong bits = 0;
            int left = 0;
            for (int ch = 0; ch < c; ch++)
            {
                for (int y = 0; y < h; y++)
                {
                    int sy = Math.Clamp(y + dy, 0, h - 1);
                    for (int x = 0; x < w; x++)
                    {
                        if (left == 0)
                        {
                            bits = rng.Next();
                            left = 8;
                        }

                        int noise = (int)(bits & 0xff) - 128;
                        bits >>= 8;
                        left--;
                        int sx = Math.Clamp(x + dx, 0, w - 1);
                        float value = brightness + (contrast * pattern[(((ch * h) + sy) * w) + sx]) + (noise * o.Noise / 128f);
                        image[(((ch * h) + y) * w) + x] = (byte)Math.Clamp((int)value, 0, 255);
                    }
                }
            }
        });
        return new ImageDataset(name, o.Shape, pixels, labels, names);
    }

    private static ulong Mix(int seed, int split, int index) =>
        ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)split << 40) ^ (ulong)(uint)index;

    /// <summary>SplitMix64: tiny, fast, and good enough for pixel noise.</summary>
    private struct SplitMix(ulong state)
    {
        private ulong _state = state;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
    }
}
