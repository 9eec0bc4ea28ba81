/* C + FFTW reference for bench/dsp.py: uint8 IQ -> averaged power spectrum.
 *
 * The same work as dsp.spectrum.welch_spectrum on one thread: Hann window
 * (periodic), 50 % overlap, single-precision complex FFT through FFTW (a measured
 * plan over a batch of frames, made once), |X|^2 summed per bin in double.
 *
 * usage: welch_ref FILE FFT_SIZE MIN_SECONDS
 *   FILE holds uint8 interleaved I/Q. Prints "<samples per second of thread CPU time>".
 */
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s FILE FFT_SIZE MIN_SECONDS\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *raw = malloc(bytes);
    if (fread(raw, 1, bytes, f) != (size_t)bytes) { perror("read"); return 2; }
    fclose(f);
    int n = atoi(argv[2]);
    double min_s = atof(argv[3]);
    long n_samples = bytes / 2;
    int step = n / 2;
    long n_frames = 1 + (n_samples - n) / step;
    int rows = 16;  /* frames per FFTW batch: the batch stays in the L2 cache */
    float *w = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) w[i] = (float)((0.5 - 0.5 * cos(2 * M_PI * i / n)) / 128.0);
    fftwf_complex *buf = fftwf_alloc_complex((size_t)rows * n);
    fftwf_plan plan = fftwf_plan_many_dft(1, &n, rows, buf, NULL, 1, n, buf, NULL, 1, n,
                                          FFTW_FORWARD, FFTW_MEASURE);
    double *acc = calloc(n, sizeof(double));
    float *part = malloc(sizeof(float) * n);
    long done = 0;
    double t0 = cpu_s(), el = 0;
    do {
        for (long fr = 0; fr < n_frames; fr += rows) {
            int k = (n_frames - fr < rows) ? (int)(n_frames - fr) : rows;
            for (int r = 0; r < k; r++) {
                const unsigned char *x = raw + 2 * (fr + r) * (long)step;
                float *b = (float *)buf[(long)r * n];
                for (int i = 0; i < n; i++) {
                    b[2 * i] = ((float)x[2 * i] - 127.5f) * w[i];
                    b[2 * i + 1] = ((float)x[2 * i + 1] - 127.5f) * w[i];
                }
            }
            for (int r = k; r < rows; r++) memset(buf[(long)r * n], 0, sizeof(fftwf_complex) * n);
            fftwf_execute(plan);
            for (int i = 0; i < n; i++) part[i] = 0.0f;
            for (int r = 0; r < k; r++) {
                const float *b = (const float *)buf[(long)r * n];
                for (int i = 0; i < n; i++) part[i] += b[2 * i] * b[2 * i] + b[2 * i + 1] * b[2 * i + 1];
            }
            for (int i = 0; i < n; i++) acc[i] += part[i];
        }
        done += n_samples;
        el = cpu_s() - t0;
    } while (el < min_s);
    /* keep the result alive so the work is not optimised away */
    double s = 0;
    for (int i = 0; i < n; i++) s += acc[i];
    fprintf(stderr, "checksum %g\n", s);
    printf("%.6e\n", done / el);
    return 0;
}
