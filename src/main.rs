fn main() {
    println!("ats-operator");
}
