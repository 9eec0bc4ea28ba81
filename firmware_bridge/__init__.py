"""Everything that talks to hardware or raw IQ: RTL-SDR, rtl_tcp, SigMF, rtl_power CSV,
raw IQ files, the RF-scene simulator and GPS over serial."""
