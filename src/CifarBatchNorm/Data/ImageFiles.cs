using SkiaSharp;

namespace CifarBatchNorm.Data;

/// <summary>
/// Image files (PNG, JPEG, BMP) as model input: decoded with SkiaSharp, resized to the model's input with bilinear
/// sampling, scaled to [0, 1] (pixels / 255, as in training), in (C, H, W) order. One-channel models get the
/// luminance <c>0.299 R + 0.587 G + 0.114 B</c> (as PIL's "L" mode).
/// </summary>
internal static class ImageFiles
{
    /// <summary>The file extensions a folder is expanded to.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp"];

    /// <summary>The paths with every folder replaced by its image files (by extension, sorted by name); files stay as given.</summary>
    /// <exception cref="FileNotFoundException">A path is neither a file nor a folder.</exception>
    public static IReadOnlyList<string> Expand(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var result = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                result.AddRange(Directory.EnumerateFiles(path)
                    .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                result.Add(path);
            }
            else
            {
                throw new FileNotFoundException($"{path} not found: pass image files (PNG, JPEG, BMP) or folders holding them.", path);
            }
        }

        return result;
    }

    /// <summary>The largest image file read (bytes).</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>The largest image read, in pixels (width x height): 50 megapixels, 200 MB decoded.</summary>
    public const long MaxPixels = 50_000_000;

    /// <summary>Decodes one image and returns it as (C, H, W) floats in [0, 1] at <paramref name="shape"/>.</summary>
    /// <exception cref="DataFormatException">The file is not an image SkiaSharp can decode.</exception>
    public static float[] Load(string path, ImageShape shape) => Load(path, shape, null);

    /// <summary>
    /// Decodes one image as <see cref="Load(string, ImageShape)"/> does, telling <paramref name="warn"/> when the file
    /// ends before the image does (a truncated PNG or JPEG decodes to a partly blank image).
    /// </summary>
    /// <exception cref="DataFormatException">The file is not an image SkiaSharp can decode.</exception>
    public static float[] Load(string path, ImageShape shape, Action<string>? warn)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        shape.Validate();
        if (shape.Channels is not (1 or 3))
        {
            throw new ArgumentException($"Images can feed 1- or 3-channel models, not {shape}.", nameof(shape));
        }

        // Checked before anything is decoded: a FIFO would block, and a small file can announce a huge image
        // (a 100,000 x 100,000 PNG decodes to 40 GB).
        DataFile.RequireRegularFile(path, MaxFileBytes, "image");
        using (var codec = SKCodec.Create(path))
        {
            if (codec is null)
            {
                throw new DataFormatException($"{path} is not an image this program can read (PNG, JPEG or BMP).");
            }

            long pixels = (long)codec.Info.Width * codec.Info.Height;
            if (pixels > MaxPixels)
            {
                throw new DataFormatException(
                    $"{path} is {codec.Info.Width:N0}x{codec.Info.Height:N0} pixels; images of up to {MaxPixels / 1_000_000} megapixels are read (resize it first).");
            }
        }

        using var decoded = Decode(path, warn);
        using var scaled = new SKBitmap(new SKImageInfo(shape.Width, shape.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!decoded.ScalePixels(scaled, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)))
        {
            throw new DataFormatException($"{path} could not be resized to {shape.Width}x{shape.Height}.");
        }

        ReadOnlySpan<byte> rgba = scaled.GetPixelSpan();
        int plane = shape.Height * shape.Width;
        var result = new float[shape.Channels * plane];
        for (int i = 0; i < plane; i++)
        {
            byte r = rgba[i * 4], g = rgba[(i * 4) + 1], b = rgba[(i * 4) + 2];
            if (shape.Channels == 3)
            {
                result[i] = r / 255f;
                result[plane + i] = g / 255f;
                result[(2 * plane) + i] = b / 255f;
            }
            else
            {
                result[i] = (((r * 299) + (g * 587) + (b * 114)) / 1000) / 255f;
            }
        }

        return result;
    }

    private static SKBitmap Decode(string path, Action<string>? warn)
    {
        using var codec = SKCodec.Create(path)
            ?? throw new DataFormatException($"{path} is not an image this program can read (PNG, JPEG or BMP).");
        var info = codec.Info.WithColorType(SKColorType.Rgba8888).WithAlphaType(SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.IncompleteInput)
        {
            warn?.Invoke($"{path} ends before its image does (truncated); the missing part is predicted as blank.");
        }
        else if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new DataFormatException($"{path} is not an image this program can read (PNG, JPEG or BMP): {result}.");
        }

        return bitmap;
    }
}
